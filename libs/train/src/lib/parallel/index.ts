export type { BackboneSource, ParallelEngineOptions, ParallelGradients } from './parallel-engine';
export { MAX_WORKERS, ParallelGradientEngine, defaultWorkerCount, resolveWorkers } from './parallel-engine';
export type { WorkerGradientOptions } from './worker-gradients';
export { workerGradients } from './worker-gradients';
export type { NodeTrainOptions } from './node-train';
export { train, workersFor } from './node-train';
export { AUTO_WORKERS_MIN_GFLOP, autoWorkerCount, forwardGflopPerImage, type VitCost } from './auto-workers';
export { sliceBatch, weightedMean } from './slices';
