import type { TrainerConfig } from './config';

/** Learning-rate schedule of the SNELL reference recipe: linear warm-up, then cosine decay to a floor. */
export interface ScheduleConfig {
  /** peak learning rate, reached at the end of warm-up */
  lr: number;
  /** learning rate at step 0 (reference: 1e-6) */
  warmupLr: number;
  /** floor of the cosine decay (reference: 1e-5) */
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Learning rate for optimizer step `step` (0-based). */
export function learningRateAt(step: number, cfg: ScheduleConfig): number {
  const { lr, warmupLr, minLr, warmupSteps, totalSteps } = cfg;
  if (step < warmupSteps) return warmupLr + ((lr - warmupLr) * step) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const t = Math.min(1, (step - warmupSteps) / decaySteps);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * t));
}

/** The trainer settings a schedule depends on. */
export type ScheduleSettings = Pick<TrainerConfig, 'epochs' | 'maxSteps' | 'batchSize' | 'lr' | 'warmupLr' | 'minLr' | 'warmupEpochs'>;

/** Optimizer steps of one epoch: ⌈dataSize / batchSize⌉ (a short last batch is a step). */
export function stepsPerEpochFor(cfg: Pick<TrainerConfig, 'batchSize'>, dataSize: number): number {
  return Math.ceil(dataSize / cfg.batchSize);
}

/** Optimizer steps of a local run: stepsPerEpochFor × epochs, capped by maxSteps when set. */
export function totalStepsFor(cfg: Pick<TrainerConfig, 'epochs' | 'maxSteps' | 'batchSize'>, dataSize: number): number {
  const all = stepsPerEpochFor(cfg, dataSize) * cfg.epochs;
  return cfg.maxSteps > 0 ? Math.min(cfg.maxSteps, all) : all;
}

/** The schedule of a local run: steps from the data size and epochs (capped by maxSteps), warm-up in steps. */
export function scheduleFor(cfg: ScheduleSettings, dataSize: number): ScheduleConfig {
  const stepsPerEpoch = stepsPerEpochFor(cfg, dataSize);
  return {
    lr: cfg.lr,
    warmupLr: cfg.warmupLr,
    minLr: Math.min(cfg.minLr, cfg.lr),
    warmupSteps: Math.round(cfg.warmupEpochs * stepsPerEpoch),
    totalSteps: totalStepsFor(cfg, dataSize),
  };
}
