import type { RoundStart, Task } from '@fedsnell/protocol';
import { resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import type { TrainerConfig } from '@fedsnell/train';
import { preprocessFromPretrained, type PreprocessConfig } from '@fedsnell/data';
import type { VitConfig } from '@fedsnell/vit';
import { DataError, messageOf, TaskConfigError } from './errors';

type NumericKey = { [K in keyof TrainerConfig]: TrainerConfig[K] extends number ? K : never }[keyof TrainerConfig];

/** Trainer fields a task or a round override may set; anything else is ignored (PROTOCOL.md §4). */
const TRAINER_KEYS: readonly NumericKey[] = [
  'epochs', 'maxSteps', 'batchSize', 'lr', 'warmupEpochs', 'warmupLr', 'minLr', 'weightDecay',
  'seed', 'adapterDropout', 'dropPath', 'proximalMu', 'factorLrScale', 'denseWarmupEpochs', 'sparsityRampEpochs', 'logitAdjustment',
];

/** The task's SNELL settings as the adapter code takes them (unknown keys, `targets` included, dropped: the state names the modules). */
export function snellConfigOf(task: Task): SnellConfig {
  const s = task.snell;
  try {
    return resolveSnellConfig({
      kernel: s.kernel as SnellConfig['kernel'],
      p: s.p as SnellConfig['p'],
      scale: s.scale,
      heads: s.heads,
      rank: s.rank,
      sparsity: s.sparsity,
      ...(typeof s['threshold'] === 'string' ? { threshold: s['threshold'] as SnellConfig['threshold'] } : {}),
    });
  } catch (error) {
    throw new TaskConfigError(`task ${task.taskId} has a SNELL configuration this client cannot use: ${messageOf(error)}`);
  }
}

function pickNumbers(source: Record<string, unknown>): Partial<TrainerConfig> {
  const out: Partial<TrainerConfig> = {};
  for (const key of TRAINER_KEYS) {
    const value = source[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/**
 * Local trainer settings for one round, unresolved: the task's trainer, then the round's numeric
 * overrides (e.g. proximalMu, lr, epochs), then the round's seed, which drives shuffling and dropout.
 * Schedules: 'cosine' (warm-up + cosine, the trainer's own) and 'constant' (a floor equal to lr).
 * The trainer fills defaults and range-checks them (`trainerConfigOf` in `@fedsnell/client/training`).
 */
export function trainerSettingsOf(task: Task, start: Pick<RoundStart, 'seed' | 'overrides'>): Partial<TrainerConfig> {
  const schedule = task.trainer.schedule;
  if (schedule !== 'cosine' && schedule !== 'constant') {
    throw new TaskConfigError(`task ${task.taskId} asks for trainer schedule '${schedule}' but this client supports 'cosine' and 'constant'`);
  }
  const merged: Partial<TrainerConfig> = { ...pickNumbers(task.trainer), ...pickNumbers(start.overrides ?? {}), seed: start.seed };
  // activation checkpointing trades compute for memory; the operator may ask for it
  if (typeof task.trainer['checkpoint'] === 'boolean') merged.checkpoint = task.trainer['checkpoint'];
  if (schedule === 'constant') {
    merged.warmupEpochs = 0;
    merged.minLr = merged.lr;
  }
  return merged;
}

/** Throws a `DataError` when the local ImageFolder's classes are not exactly the task's, in order. */
export function checkClasses(task: Task, local: readonly string[], dataDir: string): void {
  const wanted = task.data.classes;
  if (wanted.length === local.length && wanted.every((c, i) => c === local[i])) return;
  const missing = wanted.filter((c) => !local.includes(c));
  const extra = local.filter((c) => !wanted.includes(c));
  const detail =
    missing.length || extra.length
      ? `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`
      : 'same names in another order';
  throw new DataError(
    `data folder ${dataDir} must have the task's ${wanted.length} class folders (${wanted.join(', ')}) but has ${local.length} (${local.join(', ')}): ${detail}`,
  );
}

/** The preprocessing a backbone's pretrained_cfg asks for (DESIGN.md: RGB, resize, [0,1], mean/std). */
export function preprocessFor(config: VitConfig): PreprocessConfig {
  return preprocessFromPretrained(config);
}
