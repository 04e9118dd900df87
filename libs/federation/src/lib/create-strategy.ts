import { fedAvg, fedProx } from './fedavg';
import { FedOptOptions, fedOpt } from './fedopt';
import { NormClippingOptions, withNormClipping } from './norm-clipping';
import { coordinateMedian, trimmedMean } from './robust';
import { SnellExactOptions, snellExact } from './snell-exact';
import type { SparseDeltaEngine } from './sparse-deltas';
import type { Strategy } from './types';

/** A strategy as a task file names it; `clipping` wraps any of them. */
export type StrategyConfig = (
  | { name: 'fedavg' }
  | { name: 'fedprox'; proximalMu: number }
  | ({ name: 'fedadam' | 'fedyogi' | 'fedadagrad' } & FedOptOptions)
  | { name: 'median' }
  | { name: 'trimmed-mean'; beta: number }
  | ({ name: 'snell-exact' } & SnellExactOptions)
) & { clipping?: NormClippingOptions };

export const STRATEGY_NAMES = ['fedavg', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad', 'median', 'trimmed-mean', 'snell-exact'] as const;

/** What a strategy may use besides its configuration. */
export interface StrategyResources {
  /** Where SNELL-exact computes and sums sparse updates (default: this thread). */
  sparseDeltas?: SparseDeltaEngine;
}

function build(config: StrategyConfig, resources: StrategyResources): Strategy {
  switch (config.name) {
    case 'fedavg':
      return fedAvg();
    case 'fedprox':
      return fedProx({ proximalMu: config.proximalMu });
    case 'fedadam':
    case 'fedyogi':
    case 'fedadagrad': {
      const { serverLr, beta1, beta2, tau } = config;
      const options: FedOptOptions = {};
      if (serverLr !== undefined) options.serverLr = serverLr;
      if (beta1 !== undefined) options.beta1 = beta1;
      if (beta2 !== undefined) options.beta2 = beta2;
      if (tau !== undefined) options.tau = tau;
      return fedOpt(config.name, options);
    }
    case 'median':
      return coordinateMedian();
    case 'trimmed-mean':
      return trimmedMean({ beta: config.beta });
    case 'snell-exact': {
      const options: SnellExactOptions = { snell: config.snell };
      if (config.refitSteps !== undefined) options.refitSteps = config.refitSteps;
      if (config.refitLr !== undefined) options.refitLr = config.refitLr;
      if (resources.sparseDeltas) options.sparseDeltas = resources.sparseDeltas;
      return snellExact(options);
    }
    default: {
      const name: unknown = (config as { name: unknown }).name;
      throw new Error(`strategy name passed to createStrategy() must be one of ${STRATEGY_NAMES.join('|')} but got '${String(name)}'`);
    }
  }
}

export function createStrategy(config: StrategyConfig, resources: StrategyResources = {}): Strategy {
  const strategy = build(config, resources);
  return config.clipping ? withNormClipping(strategy, config.clipping) : strategy;
}
