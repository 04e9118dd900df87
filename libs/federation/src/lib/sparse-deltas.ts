import { computeSparseDelta, SparseDeltaBuffers, type SnellConfig } from '@fedsnell/snell';
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
   * (as `moduleGap` against `take`'s float32 mean), computed where the sums are. The engine keeps
   * the means it divides on the way (until the next `accumulate` or `clear`): asking for gaps
   * before `take` spares `take` its own pass.
   */
  gaps(modules: ReadonlyMap<string, SnellModuleFactors>, total: number): Promise<Record<string, number>>;
  /**
   * The running sums divided by `total` (float64, rounded to float32 once); the sums stay until
   * `clear`. The engine keeps these means too (later `gaps` with the same total compare against
   * them without dividing again); callers must not write to them.
   */
  take(total: number): Promise<Map<string, ExactDelta>>;
  /** Drops the running sums. */
  clear(): Promise<void>;
  /** Frees threads the engine holds; the engine is not used afterwards. */
  close(): Promise<void>;
}

/** One module's running sum Σ_k w_k · S_k in float64. */
interface ModuleSum {
  shape: [number, number];
  acc: Float64Array;
  /**
   * Memory for the module's first mean, allocated and written once when the module is first summed:
   * the OS faults its pages in while updates arrive rather than at the round's close.
   */
  spare: Float32Array | null;
}

/** Adds weight · S(κ(A, B)) into `sums` (created on first use); shape changes between updates throw. */
function addSparseDelta(
  sums: Map<string, ModuleSum>,
  module: string,
  factors: SnellModuleFactors,
  weight: number,
  cfg: SnellConfig,
  buffers: SparseDeltaBuffers,
  allocate: (length: number) => Float32Array,
): void {
  const { delta, shape } = computeSparseDelta(factors.A, factors.B, cfg, buffers);
  let entry = sums.get(module);
  if (!entry) {
    entry = { shape, acc: new Float64Array(delta.length), spare: allocate(delta.length).fill(0) };
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
 * The state an engine keeps between calls: the running sums and, once asked for with a total, their
 * means fround(sum / total) per module, computed once by whichever of `gaps` and `take` reaches the
 * module first and kept until the sums change. A round's close asks for the factor average's gaps
 * first, so the division shares the gaps' pass over the sums instead of taking one of its own.
 */
export class SparseDeltaSums {
  private sums = new Map<string, ModuleSum>();
  private means: { total: number; data: Map<string, Float32Array> } | null = null;
  /** ΔW and S of one module at a time, reused: each is summed or compared at once */
  private readonly buffers = new SparseDeltaBuffers();

  /** `allocate` makes the arrays of the means (worker threads allocate shared memory). */
  constructor(
    private readonly cfg: SnellConfig,
    private readonly allocate: (length: number) => Float32Array = (length) => new Float32Array(length),
  ) {}

  add(module: string, factors: SnellModuleFactors, weight: number): void {
    this.means = null;
    addSparseDelta(this.sums, module, factors, weight, this.cfg, this.buffers, this.allocate);
  }

  /** sum / total per module (float64, rounded to float32 once), in the order modules were first summed. */
  take(total: number): Map<string, ExactDelta> {
    const means = this.meansFor(total);
    const out = new Map<string, ExactDelta>();
    for (const [module, entry] of this.sums) {
      const { shape, acc } = entry;
      let data = means.get(module);
      if (!data) {
        data = this.meanArray(entry);
        for (let i = 0; i < acc.length; i++) data[i] = acc[i] / total;
        means.set(module, data);
      }
      out.set(module, { shape: [shape[0], shape[1]], data });
    }
    return out;
  }

  /**
   * moduleGap(S(κ(A_m, B_m)), mean_m) of every module against the mean `take` returns (where that
   * mean is not computed yet, it is written in the same pass).
   */
  gaps(modules: Iterable<[string, SnellModuleFactors]>, total: number): Record<string, number> {
    const means = this.meansFor(total);
    const gaps: Record<string, number> = {};
    for (const [module, { A, B }] of modules) {
      const entry = this.sums.get(module);
      if (!entry) throw new Error(`sparse delta sums: no update had module ${module}`);
      const { delta } = computeSparseDelta(A, B, this.cfg, this.buffers);
      const { acc } = entry;
      if (delta.length !== acc.length) throw new Error(`sparse delta sums: module ${module} merges to ${delta.length} entries but the sums have ${acc.length}`);
      const known = means.get(module);
      if (known) {
        gaps[module] = moduleGap(delta, known);
        continue;
      }
      // moduleGap(delta, mean) while writing the mean
      const mean = this.meanArray(entry);
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < acc.length; i++) {
        const t = Math.fround(acc[i] / total);
        mean[i] = t;
        const d = delta[i] - t;
        diff += d * d;
        norm += t * t;
      }
      means.set(module, mean);
      gaps[module] = norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
    return gaps;
  }

  clear(): void {
    this.sums = new Map();
    this.means = null;
  }

  /** The spare array the first time (a mean handed out is never written again), a new one after. */
  private meanArray(entry: ModuleSum): Float32Array {
    const data = entry.spare ?? this.allocate(entry.acc.length);
    entry.spare = null;
    return data;
  }

  private meansFor(total: number): Map<string, Float32Array> {
    checkTotal(total);
    if (this.means?.total !== total) this.means = { total, data: new Map() };
    return this.means.data;
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
    take: (total) => inOrder(() => state.take(total)),
    clear: () => inOrder(() => state.clear()),
    close: () => inOrder(() => undefined),
  };
}
