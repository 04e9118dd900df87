import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SnellConfig } from '@fedsnell/snell';
import type { ExactDelta } from '../aggregation-gap';
import type { SnellModuleFactors } from '../snell-modules';
import { inThreadSparseDeltas, type SparseDeltaEngine } from '../sparse-deltas';
import type { FromSparseWorker, ToSparseWorker, WireDelta, WireFactors } from './messages';

export interface WorkerSparseDeltaOptions {
  /** Worker threads; default: the machine's cores, at most 4. */
  workers?: number;
  /** Told once when a worker fails and the engine continues in this thread. */
  onFallback?: (reason: string) => void;
}

const FN = 'workerSparseDeltas()';
const MAX_WORKERS = 64;

type Outgoing = ToSparseWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

type Done = Extract<FromSparseWorker, { type: 'done' }>;

interface Pending {
  resolve: (reply: Done) => void;
  reject: (error: Error) => void;
}

/**
 * SNELL-exact's sparse updates and running sums in worker threads. Modules are shared out among
 * the workers by size (each worker owns the float64 sums of its modules), so an update costs its
 * factors on the wire, never a dense copy. Each worker handles its messages in order, so sums are
 * added in acceptance order and the result does not depend on timing. If a worker fails, the
 * engine goes on in this thread (the float64 reference path) and the sums of the round are redone.
 */
export async function workerSparseDeltas(cfg: SnellConfig, options: WorkerSparseDeltaOptions = {}): Promise<SparseDeltaEngine> {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  const count = options.workers ?? Math.max(1, Math.min(4, cores));
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
    throw new RangeError(`workers passed to ${FN} must be an integer in [1, ${MAX_WORKERS}] but got ${count}`);
  }
  const threads = Array.from({ length: count }, () => new Worker(join(__dirname, 'sparse-delta-worker.cjs')));
  const pending = threads.map(() => new Map<number, Pending>());
  const load = threads.map(() => 0);
  const owner = new Map<string, number>();
  let nextId = 1;
  let fallback: SparseDeltaEngine | null = null;
  let closed = false;

  const fail = (k: number, reason: string) => {
    if (!fallback && !closed) {
      fallback = inThreadSparseDeltas(cfg);
      options.onFallback?.(reason);
    }
    for (const map of pending) {
      for (const p of map.values()) p.reject(new Error(`sparse-delta worker ${k} failed: ${reason}`));
      map.clear();
    }
  };
  threads.forEach((thread, k) => {
    // an idle engine does not keep the process alive (one with work in flight does)
    thread.unref();
    thread.on('message', (msg: FromSparseWorker) => {
      const p = pending[k].get(msg.id);
      if (!p) return;
      pending[k].delete(msg.id);
      if (pending[k].size === 0) thread.unref();
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    thread.on('error', (error) => fail(k, error.message));
    thread.on('exit', (code) => {
      if (!closed) fail(k, `exited with code ${code}`);
    });
  });

  const send = (k: number, msg: Outgoing): Promise<Done> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending[k].set(id, { resolve, reject });
      threads[k].ref();
      threads[k].postMessage({ ...msg, id });
    });
  const everyWorker = (msg: Outgoing): Promise<Done[]> => Promise.all(threads.map((_, k) => send(k, msg)));
  const ownerOf = (module: string, { A, B }: SnellModuleFactors): number => {
    let k = owner.get(module);
    if (k === undefined) {
      k = load.indexOf(Math.min(...load));
      load[k] += (A.shape[1] ?? 0) * (B.shape[1] ?? 0);
      owner.set(module, k);
    }
    return k;
  };
  const byWorker = (modules: ReadonlyMap<string, SnellModuleFactors>): WireFactors[][] => {
    const parts: WireFactors[][] = threads.map(() => []);
    for (const [module, factors] of modules) {
      parts[ownerOf(module, factors)].push({ module, A: { shape: [...factors.A.shape], data: factors.A.data }, B: { shape: [...factors.B.shape], data: factors.B.data } });
    }
    return parts;
  };
  const toMap = (deltas: WireDelta[]): Map<string, ExactDelta> => new Map(deltas.map((d) => [d.module, { shape: d.shape, data: d.data }]));
  /** `deltas` in the order of `modules` (the order the modules were first seen) */
  const ordered = (modules: Iterable<string>, deltas: WireDelta[]): Map<string, ExactDelta> => {
    const found = toMap(deltas);
    return new Map([...modules].filter((m) => found.has(m)).map((m) => [m, found.get(m) as ExactDelta]));
  };

  try {
    await everyWorker({ type: 'init', snell: cfg });
  } catch (error) {
    closed = true;
    await Promise.all(threads.map((t) => t.terminate()));
    throw error;
  }

  return {
    async accumulate(modules, weight) {
      if (fallback) return fallback.accumulate(modules, weight);
      const parts = byWorker(modules);
      await Promise.all(parts.map((part, k) => (part.length ? send(k, { type: 'accumulate', weight, modules: part }) : null)));
    },
    async gaps(modules, total) {
      if (fallback) return fallback.gaps(modules, total);
      const parts = byWorker(modules);
      const replies = await Promise.all(parts.map((part, k) => (part.length ? send(k, { type: 'gaps', total, modules: part }) : null)));
      const found: Record<string, number> = Object.assign({}, ...replies.map((r) => r?.gaps ?? {}));
      // in the caller's module order
      return Object.fromEntries([...modules.keys()].filter((m) => m in found).map((m) => [m, found[m]]));
    },
    async take(total) {
      if (fallback) return fallback.take(total);
      return ordered(owner.keys(), (await everyWorker({ type: 'take', total })).flatMap((r) => r.deltas ?? []));
    },
    async clear() {
      if (fallback) return fallback.clear();
      await everyWorker({ type: 'clear' });
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
