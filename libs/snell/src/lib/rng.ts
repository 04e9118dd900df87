/**
 * Seeded PRNG (mulberry32): every random choice in fedsnell takes one of these, never Math.random,
 * so that runs, partitions and initialisations are reproducible from a seed.
 * Returns uniform numbers in [0, 1).
 */
export function createRng(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new RangeError(`seed passed to createRng() must be an integer but got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
