export type { TrainerConfig } from './lib/config';
export { DEFAULT_TRAINER_CONFIG, resolveTrainerConfig } from './lib/config';
export type { ScheduleConfig } from './lib/schedule';
export { learningRateAt, scheduleFor } from './lib/schedule';
export type { AdamWConfig } from './lib/adamw';
export { AdamW, DEFAULT_ADAMW } from './lib/adamw';
export type { TrainProgress, TrainMetrics } from './lib/events';
export type { TrainableModel } from './lib/model';
export type { TrainOptions, TrainResult } from './lib/trainer';
export { trainLocal } from './lib/trainer';
export type { EvalResult, ClassScore, EvaluateOptions } from './lib/evaluate';
export { evaluate } from './lib/evaluate';
export { toVariables, toTensorMap } from './lib/state';
export { useBackend, parseBackendChoice, availableBackends } from '@fedsnell/backends';
export type { BackendChoice, BackendName } from '@fedsnell/backends';
// Data-parallel training over Node worker threads (Node only: node:worker_threads is required lazily).
export type { BackboneSource, ParallelEngineOptions, ParallelGradients, ParallelTrainOptions } from './lib/parallel';
export { ParallelGradientEngine, defaultWorkerCount, trainLocalParallel } from './lib/parallel';
