/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny, fast 32-bit generator, plenty for shuffles and partitions. Every random choice in
 * this library takes a seed so that runs are reproducible.
 */
export function mulberry32(seed: number): Rng {
  if (!Number.isInteger(seed)) {
    throw new Error(`seed passed to mulberry32() must be an integer but got ${seed}`);
  }
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream seed from (seed, stream), e.g. one per epoch or per class. */
export function deriveSeed(seed: number, stream: number): number {
  // splitmix32-style finaliser so that neighbouring (seed, stream) pairs give unrelated sequences
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fisher–Yates shuffle in place, driven by `rng`. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, rng: Rng): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
}
