import type { RoundConfig, RoundConfigContext, SamplingOptions, Strategy } from './types';

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

/** The default configure step: a seeded sample of the candidates, no per-round trainer settings. */
export function sampleRound(ctx: RoundConfigContext): RoundConfig {
  return { clients: sampleClients(ctx.candidates, ctx.rng, ctx.sampling) };
}

/**
 * The round as `strategy` configures it (`sampleRound` when it has no configure step), checked: the
 * clients are distinct candidates, at least one, and every override is a finite number.
 */
export function configureRound(strategy: Strategy, ctx: RoundConfigContext): RoundConfig {
  const config = strategy.configure ? strategy.configure(ctx) : sampleRound(ctx);
  const where = `${strategy.name}.configure()`;
  const candidates = new Set(ctx.candidates);
  const seen = new Set<string>();
  for (const id of config.clients) {
    if (!candidates.has(id)) throw new Error(`${where} must pick clients among the candidates but picked '${id}'`);
    if (seen.has(id)) throw new Error(`${where} must pick each client at most once but picked '${id}' twice`);
    seen.add(id);
  }
  if (config.clients.length === 0 && candidates.size > 0) throw new Error(`${where} must pick at least one client of ${candidates.size} but picked none`);
  for (const [name, value] of Object.entries(config.overrides ?? {})) {
    if (!Number.isFinite(value)) throw new Error(`${where} must give finite trainer overrides but gave ${name}=${value}`);
  }
  return config.overrides && Object.keys(config.overrides).length > 0 ? { clients: [...config.clients], overrides: { ...config.overrides } } : { clients: [...config.clients] };
}
