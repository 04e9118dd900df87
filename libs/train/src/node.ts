// Node-only parts of @fedsnell/train: training with gradients from worker threads.
export type { BackboneSource, NodeTrainOptions, ParallelEngineOptions, ParallelGradients, WorkerGradientOptions } from './lib/parallel';
export { MAX_WORKERS, ParallelGradientEngine, defaultWorkerCount, resolveWorkers, train, workerGradients } from './lib/parallel';
