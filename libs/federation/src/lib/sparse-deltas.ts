import { computeSparseDelta, type SnellConfig } from '@fedsnell/snell';
import type { ExactDelta } from './aggregation-gap';
import type { SnellModuleFactors } from './snell-modules';

/**
 * Where SNELL-exact computes S(κ(A, B)) and keeps its running sums: in this thread
 * (`inThreadSparseDeltas`, browser-safe) or in worker threads (`workerSparseDeltas` from
 * `@fedsnell/federation/node`). Calls take effect in the order they are made.
 */
export interface SparseDeltaEngine {
  /** Adds weight · S(κ(A_m, B_m)) of every module m to the running sums. */
  accumulate(modules: ReadonlyMap<string, SnellModuleFactors>, weight: number): Promise<void>;
  /** S(κ(A_m, B_m)) of every module, leaving the sums alone. */
  sparse(modules: ReadonlyMap<string, SnellModuleFactors>): Promise<Map<string, ExactDelta>>;
  /** The running sums divided by `total` (float64, rounded to float32 once); the sums start again from zero. */
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

/** sum / total per module, rounded to float32 once. */
export function meanOfSums(sums: ReadonlyMap<string, ModuleSum>, total: number): Map<string, ExactDelta> {
  if (!(total > 0) || !Number.isFinite(total)) throw new RangeError(`total passed to take() must be a finite number > 0 but got ${total}`);
  const out = new Map<string, ExactDelta>();
  for (const [module, { shape, acc }] of sums) {
    const data = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) data[i] = acc[i] / total;
    out.set(module, { shape: [shape[0], shape[1]], data });
  }
  return out;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The engine in this thread: the float64 reference path (computeSparseDelta), one module at a time
 * with a turn for other work (sockets, timers) between modules.
 */
export function inThreadSparseDeltas(cfg: SnellConfig): SparseDeltaEngine {
  let sums = new Map<string, ModuleSum>();
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
          addSparseDelta(sums, module, factors, weight, cfg);
          await nextTask();
        }
      }),
    sparse: (modules) =>
      inOrder(async () => {
        const out = new Map<string, ExactDelta>();
        for (const [module, { A, B }] of modules) {
          const { delta, shape } = computeSparseDelta(A, B, cfg);
          out.set(module, { shape, data: delta });
          await nextTask();
        }
        return out;
      }),
    take: (total) =>
      inOrder(() => {
        const out = meanOfSums(sums, total);
        sums = new Map();
        return out;
      }),
    clear: () =>
      inOrder(() => {
        sums = new Map();
      }),
    close: () => inOrder(() => undefined),
  };
}
