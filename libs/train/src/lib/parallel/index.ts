export type { BackboneSource, ParallelEngineOptions, ParallelGradients } from './parallel-engine';
export { ParallelGradientEngine, defaultWorkerCount } from './parallel-engine';
export type { ParallelTrainOptions } from './train-parallel';
export { trainLocalParallel } from './train-parallel';
export { sliceBatch, weightedMean } from './slices';
