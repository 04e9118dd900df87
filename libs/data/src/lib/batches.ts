import { deriveSeed, mulberry32, permutation, type Rng } from './rng';
import type { Dataset } from './types';

export interface BatchOptions {
  batchSize: number;
  /** default false: examples in index order */
  shuffle?: boolean;
  /** default 0; with `epoch`, fixes the order */
  seed?: number;
  /** default 0; each epoch gets its own order from the same seed */
  epoch?: number;
  /** default false: keep a last, smaller batch */
  dropLast?: boolean;
  /** a caller-owned generator for the shuffle, used instead of seed and epoch */
  rng?: Rng;
}

export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** The example order of one epoch, as batchIterator() uses it. */
export function epochOrder(size: number, options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch' | 'rng'>): number[] {
  const { shuffle = false, seed = 0, epoch = 0, rng } = options;
  if (!shuffle) return Array.from({ length: size }, (_, i) => i);
  return permutation(size, rng ?? mulberry32(deriveSeed(seed, epoch)));
}

/**
 * Yields the batches of one epoch. While the caller works on batch k, batch k + 1 is already loading
 * (at most one batch ahead), so decoding overlaps training without unbounded memory.
 */
export async function* batchIterator(ds: Dataset, options: BatchOptions): AsyncGenerator<Batch> {
  const { batchSize, dropLast = false, seed = 0, epoch = 0 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize passed to batchIterator() must be a positive integer but got ${batchSize}`);
  }
  if (!Number.isInteger(seed)) throw new Error(`seed passed to batchIterator() must be an integer but got ${seed}`);
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`epoch passed to batchIterator() must be a non-negative integer but got ${epoch}`);
  }
  const order = epochOrder(ds.size, options);
  const starts: number[] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    if (dropLast && s + batchSize > order.length) break;
    starts.push(s);
  }
  const fetch = (s: number) => ds.load(order.slice(s, s + batchSize));
  let pending = starts.length > 0 ? fetch(starts[0]) : undefined;
  try {
    for (let k = 0; k < starts.length; k++) {
      const current = await (pending as Promise<{ x: Float32Array; y: Int32Array }>);
      pending = k + 1 < starts.length ? fetch(starts[k + 1]) : undefined;
      yield { x: current.x, y: current.y, n: current.y.length };
    }
  } finally {
    // a consumer that stops early must not leave a rejected prefetch unhandled
    pending?.catch(() => undefined);
  }
}
