export type { BackboneSource, ParallelEngineOptions, ParallelGradients } from './parallel-engine';
export { MAX_WORKERS, ParallelGradientEngine, defaultWorkerCount, resolveWorkers } from './parallel-engine';
export type { WorkerGradientOptions } from './worker-gradients';
export { workerGradients } from './worker-gradients';
export type { NodeTrainOptions } from './node-train';
export { train } from './node-train';
export { sliceBatch, weightedMean } from './slices';
