import { requireOption } from './options';
import { coordinateWise, sharedNames } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, Strategy } from './types';

function median(column: Float64Array): number {
  column.sort();
  const mid = column.length >> 1;
  return column.length % 2 === 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2;
}

/**
 * Coordinate-wise median (Yin et al. 2018): each value is the median over clients, unweighted, the
 * mean of the two middle values for an even count. Robust to a minority of arbitrary updates.
 */
export function coordinateMedian(): Strategy {
  return {
    name: 'median',
    async aggregate(_ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      if (updates.length === 0) return null;
      const state = coordinateWise(sharedNames('median.aggregate()', updates), updates, median);
      return { state, info: { clients: updates.length } };
    },
    summary: () => ({ name: 'median', weighting: 'none' }),
  };
}

export interface TrimmedMeanOptions {
  /** Fraction of clients trimmed from each side per coordinate: ⌊β·k⌋ lowest and highest. */
  beta: number;
}

/** Coordinate-wise β-trimmed mean (Yin et al. 2018), unweighted. */
export function trimmedMean(options: TrimmedMeanOptions): Strategy {
  const { beta } = options;
  requireOption(Number.isFinite(beta) && beta >= 0 && beta < 0.5, 'trimmedMean()', 'beta', 'be in [0, 0.5)', beta);
  return {
    name: 'trimmed-mean',
    async aggregate(_ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      if (updates.length === 0) return null;
      const trim = Math.floor(beta * updates.length);
      const keep = updates.length - 2 * trim;
      const mean = (column: Float64Array): number => {
        column.sort();
        let sum = 0;
        for (let i = trim; i < trim + keep; i++) sum += column[i];
        return sum / keep;
      };
      const state = coordinateWise(sharedNames('trimmed-mean.aggregate()', updates), updates, mean);
      return { state, info: { clients: updates.length, trimmedEachSide: trim } };
    },
    summary: () => ({ name: 'trimmed-mean', beta, weighting: 'none' }),
  };
}
