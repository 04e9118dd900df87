// Node-only parts of @fedsnell/train: training with gradients from worker threads.
export type { BackboneSource, NodeTrainOptions, ParallelEngineOptions, ParallelGradients, WorkerGradientOptions } from './lib/parallel';
export type { VitCost } from './lib/parallel';
export { AUTO_WORKERS_MIN_GFLOP, MAX_WORKERS, ParallelGradientEngine, autoWorkerCount, defaultWorkerCount, forwardGflopPerImage, resolveWorkers, train, workerGradients, workersFor } from './lib/parallel';
