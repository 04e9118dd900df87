import { isPositiveFinite, requireOption } from './options';
import { sampleRound } from './sampling';
import { exampleWeights, sharedNames, weightedSum } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, RoundConfigContext, Strategy } from './types';

/** Weighted average of every tensor, each client weighted by its example count (McMahan et al. 2017). */
export function fedAvg(): Strategy {
  return {
    name: 'fedavg',
    async aggregate(_ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      if (updates.length === 0) return null;
      const where = 'fedavg.aggregate()';
      const weights = exampleWeights(where, updates);
      const state = weightedSum(sharedNames(where, updates), updates, weights);
      return { state, info: { clients: updates.length, examples: updates.reduce((s, u) => s + u.numExamples, 0) } };
    },
    summary: () => ({ name: 'fedavg', weighting: 'numExamples' }),
  };
}

export interface FedProxOptions {
  /** Weight of the client-side proximal term (μ/2)‖w − w_global‖²; the trainer applies it. */
  proximalMu: number;
}

/**
 * FedProx (Li et al. 2020): its server step is FedAvg; the difference is the clients' proximal term,
 * so its configure step samples as the default does and hands every round `proximalMu` to the trainers.
 */
export function fedProx(options: FedProxOptions): Strategy {
  const { proximalMu } = options;
  requireOption(isPositiveFinite(proximalMu) || proximalMu === 0, 'fedProx()', 'proximalMu', 'be a finite number ≥ 0', proximalMu);
  const inner = fedAvg();
  return {
    name: 'fedprox',
    configure: (ctx: RoundConfigContext) => ({ ...sampleRound(ctx), overrides: { proximalMu } }),
    aggregate: (ctx, updates) => inner.aggregate(ctx, updates),
    summary: () => ({ name: 'fedprox', weighting: 'numExamples', proximalMu }),
  };
}
