import { computeSparseDelta, type SnellConfig } from '@fedsnell/snell';
import { moduleGap, type ExactDelta } from './aggregation-gap';
import type { SnellModuleFactors } from './snell-modules';

/**
 * Where SNELL-exact computes S(κ(A, B)) and keeps its running sums: in this thread
 * (`inThreadSparseDeltas`, browser-safe) or in worker threads (`workerSparseDeltas` from
 * `@fedsnell/federation/node`). Calls take effect in the order they are made.
 */
export interface SparseDeltaEngine {
  /** Adds weight · S(κ(A_m, B_m)) of every module m to the running sums. */
  accumulate(modules: ReadonlyMap<string, SnellModuleFactors>, weight: number): Promise<void>;
  /**
   * The aggregation gap ‖S(κ(A_m, B_m)) − T_m‖ / ‖T_m‖ of every module against T_m = sum_m / total
   * (as `moduleGap` against `take`'s float32 mean), computed where the sums are.
   */
  gaps(modules: ReadonlyMap<string, SnellModuleFactors>, total: number): Promise<Record<string, number>>;
  /**
   * The running sums divided by `total` (float64, rounded to float32 once); the sums stay until
   * `clear`. The engine keeps the means it returns (until the next `accumulate` or `clear`), so
   * `gaps` with the same total afterwards compares against them without dividing again; callers
   * must not write to them.
   */
  take(total: number): Promise<Map<string, ExactDelta>>;
  /** Drops the running sums. */
  clear(): Promise<void>;
  /** Frees threads the engine holds; the engine is not used afterwards. */
  close(): Promise<void>;
}

/** One module's running sum Σ_k w_k · S_k in float64. */
export interface ModuleSum {
  shape: [number, number];
  acc: Float64Array;
}

/** Adds weight · S(κ(A, B)) into `sums` (created on first use); shape changes between updates throw. */
export function addSparseDelta(sums: Map<string, ModuleSum>, module: string, factors: SnellModuleFactors, weight: number, cfg: SnellConfig): void {
  const { delta, shape } = computeSparseDelta(factors.A, factors.B, cfg);
  let entry = sums.get(module);
  if (!entry) {
    entry = { shape, acc: new Float64Array(delta.length) };
    sums.set(module, entry);
  } else if (entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
    throw new Error(`sparse delta sums: module ${module} merges to [${shape}] but earlier updates merged to [${entry.shape}]`);
  }
  const { acc } = entry;
  for (let i = 0; i < acc.length; i++) acc[i] += weight * delta[i];
}

function checkTotal(total: number): void {
  if (!(total > 0) || !Number.isFinite(total)) throw new RangeError(`total passed to the sparse-delta engine must be a finite number > 0 but got ${total}`);
}

/**
 * sum / total per module, rounded to float32 once, into arrays from `allocate` (worker threads
 * allocate shared memory, so the means are handed to the main thread without a copy).
 */
export function meanOfSums(
  sums: ReadonlyMap<string, ModuleSum>,
  total: number,
  allocate: (length: number) => Float32Array = (length) => new Float32Array(length),
): Map<string, ExactDelta> {
  checkTotal(total);
  const out = new Map<string, ExactDelta>();
  for (const [module, { shape, acc }] of sums) {
    const data = allocate(acc.length);
    for (let i = 0; i < acc.length; i++) data[i] = acc[i] / total;
    out.set(module, { shape: [shape[0], shape[1]], data });
  }
  return out;
}

/**
 * moduleGap(S(κ(A, B)), fround(sum / total)) of each module: the same number as against `take`'s
 * float32 mean, without materialising it. Where the mean is all zeros the gap is ‖S‖.
 */
export function gapsAgainstSums(sums: ReadonlyMap<string, ModuleSum>, modules: Iterable<[string, SnellModuleFactors]>, total: number, cfg: SnellConfig): Record<string, number> {
  checkTotal(total);
  const gaps: Record<string, number> = {};
  for (const [module, { A, B }] of modules) {
    const entry = sums.get(module);
    if (!entry) throw new Error(`sparse delta sums: no update had module ${module}`);
    const { delta } = computeSparseDelta(A, B, cfg);
    if (delta.length !== entry.acc.length) throw new Error(`sparse delta sums: module ${module} merges to ${delta.length} entries but the sums have ${entry.acc.length}`);
    const { acc } = entry;
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < acc.length; i++) {
      const t = Math.fround(acc[i] / total);
      const d = delta[i] - t;
      diff += d * d;
      norm += t * t;
    }
    gaps[module] = norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
  }
  return gaps;
}

/** moduleGap(S(κ(A, B)), mean) of each module against means `meanOfSums` returned: the same numbers as `gapsAgainstSums`. */
export function gapsAgainstMeans(means: ReadonlyMap<string, ExactDelta>, modules: Iterable<[string, SnellModuleFactors]>, cfg: SnellConfig): Record<string, number> {
  const gaps: Record<string, number> = {};
  for (const [module, { A, B }] of modules) {
    const mean = means.get(module);
    if (!mean) throw new Error(`sparse delta sums: no update had module ${module}`);
    const { delta } = computeSparseDelta(A, B, cfg);
    if (delta.length !== mean.data.length) throw new Error(`sparse delta sums: module ${module} merges to ${delta.length} entries but the sums have ${mean.data.length}`);
    gaps[module] = moduleGap(delta, mean.data);
  }
  return gaps;
}

/**
 * The state an engine keeps between calls: the running sums, and the means of the last `take`
 * (valid until the sums change).
 */
export class SparseDeltaSums {
  sums = new Map<string, ModuleSum>();
  private means: { total: number; deltas: Map<string, ExactDelta> } | null = null;

  constructor(
    private readonly cfg: SnellConfig,
    private readonly allocate?: (length: number) => Float32Array,
  ) {}

  add(module: string, factors: SnellModuleFactors, weight: number): void {
    this.means = null;
    addSparseDelta(this.sums, module, factors, weight, this.cfg);
  }

  take(total: number): Map<string, ExactDelta> {
    if (this.means?.total !== total) this.means = { total, deltas: meanOfSums(this.sums, total, this.allocate) };
    return this.means.deltas;
  }

  gaps(modules: Iterable<[string, SnellModuleFactors]>, total: number): Record<string, number> {
    if (this.means?.total === total) return gapsAgainstMeans(this.means.deltas, modules, this.cfg);
    return gapsAgainstSums(this.sums, modules, total, this.cfg);
  }

  clear(): void {
    this.sums = new Map();
    this.means = null;
  }
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The engine in this thread: the float64 reference path (computeSparseDelta), one module at a time
 * with a turn for other work (sockets, timers) between modules.
 */
export function inThreadSparseDeltas(cfg: SnellConfig): SparseDeltaEngine {
  const state = new SparseDeltaSums(cfg);
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(job: () => Promise<T> | T): Promise<T> => {
    const run = queue.then(job);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    accumulate: (modules, weight) =>
      inOrder(async () => {
        for (const [module, factors] of modules) {
          state.add(module, factors, weight);
          await nextTask();
        }
      }),
    gaps: (modules, total) =>
      inOrder(async () => {
        const gaps: Record<string, number> = {};
        for (const entry of modules) {
          Object.assign(gaps, state.gaps([entry], total));
          await nextTask();
        }
        return gaps;
      }),
    take: (total) => inOrder(() => new Map(state.take(total))),
    clear: () => inOrder(() => state.clear()),
    close: () => inOrder(() => undefined),
  };
}
