import { sampleDirichlet } from './gamma';
import { deriveSeed, mulberry32, permutation, shuffleInPlace } from './rng';

export interface DirichletOptions {
  /** every client must end with at least this many examples (default 1) */
  minPerClient?: number;
  /** how many full draws to try before giving up (default 100) */
  maxTries?: number;
}

function checkClients(fn: string, numClients: number): void {
  if (!Number.isInteger(numClients) || numClients < 1) {
    throw new Error(`numClients passed to ${fn} must be a positive integer but got ${numClients}`);
  }
}

function checkSeed(fn: string, seed: number): void {
  if (!Number.isInteger(seed)) throw new Error(`seed passed to ${fn} must be an integer but got ${seed}`);
}

/**
 * Splits indices 0..n-1 uniformly at random into `numClients` parts whose sizes differ by at most one.
 * Each part is sorted ascending. `labelsOrSize` is the dataset's labels or just its size.
 */
export function partitionIid(labelsOrSize: ArrayLike<number> | number, numClients: number, seed: number): number[][] {
  checkClients('partitionIid()', numClients);
  checkSeed('partitionIid()', seed);
  const n = typeof labelsOrSize === 'number' ? labelsOrSize : labelsOrSize.length;
  if (!Number.isInteger(n) || n < numClients) {
    throw new Error(`partitionIid() needs at least numClients (${numClients}) examples but got ${n}`);
  }
  const order = permutation(n, mulberry32(seed));
  const parts: number[][] = [];
  let start = 0;
  for (let c = 0; c < numClients; c++) {
    const size = Math.floor(n / numClients) + (c < n % numClients ? 1 : 0);
    parts.push(order.slice(start, start + size).sort((a, b) => a - b));
    start += size;
  }
  return parts;
}

/**
 * Label-skewed split (Hsu et al. 2019; as in NIID-Bench): for each class, client proportions are drawn
 * from a symmetric Dirichlet(α) and the class's shuffled indices are cut at the rounded cumulative
 * proportions. Small α gives each client few classes; large α approaches IID. The whole draw is
 * repeated until every client holds at least `minPerClient` examples, up to `maxTries` times.
 * Each part is sorted ascending.
 */
export function partitionDirichlet(
  labels: ArrayLike<number>,
  numClients: number,
  alpha: number,
  seed: number,
  options: DirichletOptions = {},
): number[][] {
  const { minPerClient = 1, maxTries = 100 } = options;
  checkClients('partitionDirichlet()', numClients);
  checkSeed('partitionDirichlet()', seed);
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new Error(`alpha passed to partitionDirichlet() must be a positive finite number but got ${alpha}`);
  }
  if (!Number.isInteger(minPerClient) || minPerClient < 0) {
    throw new Error(`minPerClient passed to partitionDirichlet() must be a non-negative integer but got ${minPerClient}`);
  }
  if (!Number.isInteger(maxTries) || maxTries < 1) {
    throw new Error(`maxTries passed to partitionDirichlet() must be a positive integer but got ${maxTries}`);
  }
  if (minPerClient * numClients > labels.length) {
    throw new Error(
      `partitionDirichlet() cannot give ${numClients} clients ${minPerClient} examples each from ${labels.length} examples`,
    );
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) {
      throw new Error(`labels passed to partitionDirichlet() must be non-negative integers but got ${y} at ${i}`);
    }
    const list = byClass.get(y) ?? [];
    list.push(i);
    byClass.set(y, list);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  for (let attempt = 0; attempt < maxTries; attempt++) {
    const rng = mulberry32(deriveSeed(seed, attempt));
    const parts: number[][] = Array.from({ length: numClients }, () => []);
    for (const y of classes) {
      const idx = shuffleInPlace([...(byClass.get(y) as number[])], rng);
      const p = sampleDirichlet(alpha, numClients, rng);
      let cum = 0;
      let start = 0;
      for (let c = 0; c < numClients; c++) {
        cum += p[c];
        const end = c === numClients - 1 ? idx.length : Math.min(idx.length, Math.round(cum * idx.length));
        for (let k = start; k < end; k++) parts[c].push(idx[k]);
        start = Math.max(start, end);
      }
    }
    if (parts.every((part) => part.length >= minPerClient)) return parts.map((part) => part.sort((a, b) => a - b));
  }
  throw new Error(
    `partitionDirichlet() could not give each of ${numClients} clients at least ${minPerClient} examples in ${maxTries} draws ` +
      `(alpha=${alpha}, ${labels.length} examples); raise alpha or lower minPerClient`,
  );
}
