/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * Seeded PRNG (mulberry32): a tiny, fast 32-bit generator, plenty for shuffles, partitions, dropout
 * masks and initialisations. Every random choice in fedsnell takes one of these, never Math.random,
 * so that runs are reproducible from a seed.
 */
export function mulberry32(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed passed to mulberry32() must be an integer but got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
