import { deriveSeed, mulberry32, partitionDirichlet, partitionIid, permutation, sampleDirichlet, shuffleInPlace } from '@fedsnell/data';

export interface ShardOptions {
  clients: number;
  /** Dirichlet(α) label skew; absent: IID */
  alpha?: number;
  /** σ of the log-normal shard sizes (size ∝ exp(σ·z), z ~ N(0, 1)); 0: sizes as the split gives them */
  sizeSkew: number;
  seed: number;
}

/**
 * Indices of each simulated client's shard. Without size skew this is the split `fedsnell data
 * partition` makes (IID, or Dirichlet(α) by label). With size skew σ > 0, client k's share of every
 * class is also weighted by w_k = exp(σ·z_k), so shard sizes spread log-normally (σ = 1: the largest
 * of 100 shards is ~10× the median). Every client gets at least one example; seeded throughout.
 */
export function simulationShards(labels: Int32Array, o: ShardOptions): number[][] {
  if (labels.length < o.clients) throw new Error(`${o.clients} clients need at least as many training examples but there are ${labels.length}`);
  if (o.sizeSkew === 0) {
    return o.alpha === undefined ? partitionIid(labels.length, o.clients, o.seed) : partitionDirichlet(labels, o.clients, o.alpha, o.seed, { minPerClient: 1 });
  }
  const weights = logNormalWeights(o.clients, o.sizeSkew, mulberry32(deriveSeed(o.seed, 0x5157)));
  for (let attempt = 0; attempt < 100; attempt++) {
    const rng = mulberry32(deriveSeed(o.seed, attempt));
    // IID: one pool cut by the weights; Dirichlet: each class cut by Dirichlet(α) proportions × weights
    const groups = o.alpha === undefined ? [permutation(labels.length, rng)] : byClass(labels).map((idx) => shuffleInPlace(idx, rng));
    const parts: number[][] = Array.from({ length: o.clients }, () => []);
    for (const idx of groups) {
      const p = o.alpha === undefined ? weights : normalise(sampleDirichlet(o.alpha, o.clients, rng).map((x, k) => x * weights[k]));
      let cum = 0;
      let start = 0;
      for (let k = 0; k < o.clients; k++) {
        cum += p[k];
        const end = k === o.clients - 1 ? idx.length : Math.min(idx.length, Math.round(cum * idx.length));
        for (let i = start; i < end; i++) parts[k].push(idx[i]);
        start = Math.max(start, end);
      }
    }
    if (parts.every((part) => part.length > 0)) return parts.map((part) => part.sort((a, b) => a - b));
  }
  throw new Error(`could not give each of ${o.clients} clients at least one of ${labels.length} examples with size skew ${o.sizeSkew}; lower --size-skew or --clients`);
}

function logNormalWeights(k: number, sigma: number, rng: () => number): number[] {
  const w: number[] = [];
  for (let i = 0; i < k; i++) {
    // Box–Muller; 1 − u keeps the logarithm finite
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    w.push(Math.exp(sigma * z));
  }
  return normalise(w);
}

function normalise(x: number[]): number[] {
  const sum = x.reduce((a, b) => a + b, 0);
  return x.map((v) => v / sum);
}

function byClass(labels: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = groups.get(labels[i]) ?? [];
    list.push(i);
    groups.set(labels[i], list);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((y) => groups.get(y) as number[]);
}
