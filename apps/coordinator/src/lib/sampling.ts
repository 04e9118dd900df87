export interface SamplingOptions {
  fraction: number;
  minClients: number;
  maxClients: number;
}

/**
 * Picks ceil(fraction · n) clients, clamped to [minClients, maxClients] and to n, with the seeded
 * `rng`. Candidates are sorted first so that the pick depends on the seed, not on join order.
 */
export function sampleClients(candidates: readonly string[], rng: () => number, options: SamplingOptions): string[] {
  const pool = [...new Set(candidates)].sort();
  const wanted = Math.min(pool.length, options.maxClients, Math.max(options.minClients, Math.ceil(options.fraction * pool.length)));
  // partial Fisher–Yates: the first `wanted` slots are a uniform sample
  for (let i = 0; i < wanted; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, wanted);
}
