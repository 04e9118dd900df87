import { z } from 'zod';

const clipping = z.strictObject({ maxNorm: z.number(), onExceed: z.enum(['clip', 'reject']).optional() }).optional();
const fedOptFields = { serverLr: z.number().optional(), beta1: z.number().optional(), beta2: z.number().optional(), tau: z.number().optional(), clipping };

/**
 * A strategy as a task file names it: one object per strategy with exactly its options (a typo is an
 * error, not a silent default). Ranges are checked by the strategy itself when createStrategy builds
 * it; SNELL-exact gets the task's SNELL configuration from the coordinator, not from this object.
 * A new strategy adds its object here and its case to createStrategy.
 */
export const strategyFileSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('fedavg'), clipping }),
  z.strictObject({ name: z.literal('fedprox'), proximalMu: z.number(), clipping }),
  z.strictObject({ name: z.literal('fedadam'), ...fedOptFields }),
  z.strictObject({ name: z.literal('fedyogi'), ...fedOptFields }),
  z.strictObject({ name: z.literal('fedadagrad'), ...fedOptFields }),
  z.strictObject({ name: z.literal('median'), clipping }),
  z.strictObject({ name: z.literal('trimmed-mean'), beta: z.number(), clipping }),
  z.strictObject({ name: z.literal('snell-exact'), refitSteps: z.number().int().optional(), refitLr: z.number().optional(), clipping }),
]);

export type StrategyFileConfig = z.infer<typeof strategyFileSchema>;
