import { z } from 'zod';
import { strategyFileSchema } from '@fedsnell/federation';
import { DEFAULT_SNELL_CONFIG, resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import { DEFAULT_TRAINER_CONFIG } from '@fedsnell/train';
import { errorMessage } from '@fedsnell/util';

// Defaults come from the libraries; fields whose default depends on the kernel stay unset here and
// are filled by resolveSnellConfig (snellDefaultsFor).
const SNELL = DEFAULT_SNELL_CONFIG;
const TRAINER = DEFAULT_TRAINER_CONFIG;

/**
 * The operator's task file (`fedsnell coordinator --task FILE`): everything about a federated job
 * that is not the backbone or the evaluation data. Every field is optional; defaults follow the SNELL
 * reference recipe. Unknown keys are rejected so that a typo does not silently fall back to a default.
 */
export const taskFileSchema = z.strictObject({
  taskId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1 to 64)').optional(),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  snell: z
    .strictObject({
      kernel: z.enum(['distance', 'linear']).default(SNELL.kernel),
      p: z.union([z.literal(1), z.literal(2)]).default(SNELL.p),
      scale: z.number().positive().optional(),
      heads: z.number().int().positive().optional(),
      rank: z.number().int().positive().default(SNELL.rank),
      // unset: 0.9 for the distance kernel, 0 (plain dense LoRA) for the linear kernel
      sparsity: z.number().min(0).lt(1).optional(),
      threshold: z.enum(['reference', 'soft']).default(SNELL.threshold),
      targets: z.array(z.string()).optional(),
      // multiplies the reference initialisation of the round-0 factors (1 = the reference)
      factorInitScale: z.number().positive().finite().default(1),
    })
    .prefault({}),
  trainer: z
    .strictObject({
      epochs: z.number().int().positive().default(TRAINER.epochs),
      maxSteps: z.number().int().nonnegative().default(TRAINER.maxSteps),
      batchSize: z.number().int().positive().default(TRAINER.batchSize),
      lr: z.number().positive().default(TRAINER.lr),
      weightDecay: z.number().nonnegative().default(TRAINER.weightDecay),
      warmupEpochs: z.number().nonnegative().default(TRAINER.warmupEpochs),
      minLr: z.number().nonnegative().default(TRAINER.minLr),
      adapterDropout: z.number().min(0).lt(1).default(TRAINER.adapterDropout),
      dropPath: z.number().min(0).lt(1).default(TRAINER.dropPath),
      checkpoint: z.boolean().default(TRAINER.checkpoint),
      // options that speed up SNELL in short local runs; the defaults are the reference semantics
      factorLrScale: z.number().positive().finite().default(TRAINER.factorLrScale),
      denseWarmupEpochs: z.number().nonnegative().finite().default(TRAINER.denseWarmupEpochs),
      sparsityRampEpochs: z.number().nonnegative().finite().default(TRAINER.sparsityRampEpochs),
      logitAdjustment: z.number().nonnegative().finite().default(TRAINER.logitAdjustment),
    })
    .prefault({}),
  // one object per strategy, with exactly that strategy's options
  strategy: strategyFileSchema.prefault({ name: 'fedavg' }),
  rounds: z
    .strictObject({
      totalRounds: z.number().int().positive().optional(),
      fraction: z.number().gt(0).max(1).optional(),
      minClients: z.number().int().positive().optional(),
      maxClients: z.number().int().positive().optional(),
      minReplies: z.number().int().positive().optional(),
      graceMs: z.number().nonnegative().optional(),
      roundTimeoutMs: z.number().nonnegative().optional(),
      waitForClientsMs: z.number().nonnegative().optional(),
      maxUpdateNorm: z.number().positive().optional(),
      // ‖update − global‖ ≤ this × max(‖global‖, 1)
      maxRelativeUpdateNorm: z.number().positive().finite().optional(),
      // most numExamples one update may count (task.data.maxExamples; default 100000)
      maxExamplesPerClient: z.number().int().positive().optional(),
      reconnectGraceMs: z.number().nonnegative().optional(),
      staleUpdates: z.strictObject({ maxStaleness: z.number().int().positive(), discount: z.number().gt(0).max(1) }).optional(),
    })
    .prefault({}),
  updateDtype: z.enum(['f32', 'f16']).default('f32'),
  eval: z.strictObject({ batchSize: z.number().int().positive().default(64) }).prefault({}),
});

export type TaskFile = z.infer<typeof taskFileSchema>;

/** Validates a parsed task file; the error names the first offending field in one line. */
export function parseTaskFile(value: unknown, source = 'task file'): TaskFile {
  const result = taskFileSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  throw new Error(`${source}: ${where}: ${issue.message}`);
}

/**
 * The task's SNELL configuration with the kernel's own defaults for unset fields: `kernel: "linear"`
 * alone is plain dense LoRA (one head, scale 1, sparsity 0); an explicit value the kernel cannot take
 * is a one-line error naming the field.
 */
export function taskSnellConfig(task: TaskFile, source = 'task file'): SnellConfig {
  const { kernel, p, rank, threshold, sparsity, scale, heads } = task.snell;
  try {
    return resolveSnellConfig({ kernel, p, rank, threshold, sparsity, scale, heads });
  } catch (error) {
    throw new Error(`${source}: snell: ${errorMessage(error)}`);
  }
}
