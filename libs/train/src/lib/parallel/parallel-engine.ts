import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import type { FromWorker, ResultMessage, ToWorker, TrainableSpec } from './messages';
import { packBackbone, sliceBatch, weightedMean } from './slices';

/** The frozen backbone as config.json + timm-named tensors (e.g. from loadBackboneFolder). */
export interface BackboneSource {
  configJson: Record<string, unknown>;
  tensors: TensorMap;
}

export interface ParallelEngineOptions {
  backbone: BackboneSource;
  /** names and shapes of the trainables (values arrive per step) */
  trainables: readonly TrainableSpec[];
  snell?: SnellConfig;
  numClasses: number;
  /** logit adjustment offsets added inside the loss (see logitOffsets) */
  logitOffsets?: Float32Array;
  /** worker threads, or 'auto' (the default): the number of cores, at most 4 */
  workers?: number | 'auto';
  /** tfjs backend inside each worker (wasm is single-threaded in Node, hence the workers) */
  backend?: 'wasm' | 'cpu';
  adapterDropout?: number;
  dropPath?: number;
  /** per-block gradient checkpointing in the workers' forward pass (default off) */
  checkpoint?: boolean;
  /** a worker that does not answer a step within this time fails the step (default 10 min) */
  stepTimeoutMs?: number;
}

export interface ParallelGradients {
  /** gradient of the mean loss over the whole batch, by trainable name */
  grads: Map<string, Float32Array>;
  /** mean loss over the batch */
  loss: number;
  /** correct predictions in the batch */
  hits: number;
}

const FN = 'ParallelGradientEngine';

/** Default worker count: one per core, at most 4 (a step's slices get too small beyond that). */
export function defaultWorkerCount(): number {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/** The most worker threads a run may ask for. */
export const MAX_WORKERS = 64;

/**
 * A worker count from a flag or an option: 'auto' → defaultWorkerCount(), absent → 1, otherwise an
 * integer in [1, MAX_WORKERS]. `argument` names what was passed in the error, e.g. '--workers'.
 */
export function resolveWorkers(value: number | string | undefined, argument = 'workers'): number {
  if (value === undefined) return 1;
  if (value === 'auto') return defaultWorkerCount();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new RangeError(`${argument} must be auto or an integer in [1, ${MAX_WORKERS}] but got '${String(value)}'`);
  }
  return n;
}

interface Pending {
  resolve: (r: ResultMessage) => void;
  reject: (e: Error) => void;
}

/**
 * Data-parallel gradients over Node worker threads: each worker holds its own tfjs backend and the
 * frozen backbone; per step it receives the current trainables and a contiguous slice of the batch
 * and returns the gradients of its slice's mean loss; the engine weights them by slice size, which
 * equals the full-batch gradient up to float32 summation order. Node only.
 */
export class ParallelGradientEngine {
  private nextId = 0;
  private failed?: Error;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly threads: NodeWorker[],
    private readonly specs: readonly TrainableSpec[],
    private readonly timeoutMs: number,
  ) {}

  get workers(): number {
    return this.threads.length;
  }

  static async create(options: ParallelEngineOptions): Promise<ParallelGradientEngine> {
    const count = resolveWorkers(options.workers ?? 'auto', `workers passed to ${FN}.create()`);
    const backend = options.backend ?? 'wasm';
    if (backend !== 'wasm' && backend !== 'cpu') throw new RangeError(`backend passed to ${FN}.create() must be 'wasm' or 'cpu' but got '${String(backend)}'`);
    const backbone = packBackbone(options.backbone.configJson, options.backbone.tensors);
    const threads = Array.from({ length: count }, () => new NodeWorker(join(__dirname, 'worker-entry.cjs')));
    const engine = new ParallelGradientEngine(threads, options.trainables, options.stepTimeoutMs ?? 600_000);
    const init: ToWorker = {
      type: 'init',
      backend,
      backbone,
      trainables: options.trainables.map((t) => ({ name: t.name, shape: [...t.shape] })),
      snell: options.snell,
      numClasses: options.numClasses,
      logitOffsets: options.logitOffsets,
      adapterDropout: options.adapterDropout ?? 0,
      dropPath: options.dropPath ?? 0,
      checkpoint: options.checkpoint ?? false,
    };
    try {
      await Promise.all(threads.map((w, k) => engine.ready(w, k, init)));
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  private ready(worker: NodeWorker, index: number, init: ToWorker): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${FN}.create(): worker ${index} did not start within ${this.timeoutMs} ms`)), this.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.fail(err);
        reject(err);
      };
      worker.once('message', (msg: FromWorker) => {
        clearTimeout(timer);
        if (msg.type === 'ready') {
          worker.on('message', (m: FromWorker) => this.onMessage(index, m));
          resolve();
        } else {
          reject(new Error(`${FN}.create(): worker ${index} failed to start: ${msg.type === 'error' ? msg.message : msg.type}`));
        }
      });
      worker.on('error', (err) => fail(new Error(`${FN}: worker ${index} crashed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`${FN}: worker ${index} exited with code ${code}`));
      });
      worker.postMessage(init);
    });
  }

  private onMessage(index: number, msg: FromWorker): void {
    if (msg.type === 'ready') return;
    const id = msg.id;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (msg.type === 'error') {
      const err = new Error(`${FN}: worker ${index} failed: ${msg.message}`);
      if (p && id !== undefined) {
        this.pending.delete(id);
        p.reject(err);
      } else this.fail(err);
      return;
    }
    if (p) {
      this.pending.delete(msg.id);
      p.resolve(msg);
    }
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Gradients of the mean loss over `batch` (x: NCHW float32 [n, 3, H, W], y: labels) at the given
   * trainable values (by name, every declared trainable). `seed` seeds the workers' dropout draws;
   * `sparsity`, when given, replaces the adapter's sparsity for this step (a sparsity schedule).
   */
  async gradients(
    trainables: ReadonlyMap<string, Float32Array>,
    batch: { x: Float32Array; y: Int32Array; n: number },
    seed = 0,
    sparsity?: number,
  ): Promise<ParallelGradients> {
    if (this.failed) throw this.failed;
    if (this.threads.length === 0) throw new Error(`${FN}.gradients(): the engine was closed`);
    const values = this.specs.map((s) => {
      const v = trainables.get(s.name);
      const size = s.shape.reduce((a, b) => a * b, 1);
      if (!v || v.length !== size) {
        throw new RangeError(`trainables passed to ${FN}.gradients() must hold '${s.name}' with ${size} values but got ${v ? v.length : 'none'}`);
      }
      return v;
    });
    if (!Number.isInteger(batch.n) || batch.n < 1 || batch.y.length !== batch.n || batch.x.length % batch.n !== 0) {
      throw new RangeError(`batch passed to ${FN}.gradients() must have n ≥ 1 labels and n images but got n=${batch.n}, ${batch.y.length} labels, ${batch.x.length} pixels`);
    }
    const pixels = batch.x.length / batch.n;
    const slices = sliceBatch(batch.n, this.threads.length);
    const results = await Promise.all(
      slices.map(({ start, count }, k) => {
        const msg: ToWorker = {
          type: 'step',
          id: this.nextId++,
          seed: (seed * 7919 + k) >>> 0,
          ...(sparsity !== undefined ? { sparsity } : {}),
          trainables: values.map((v) => v.slice()),
          x: batch.x.slice(start * pixels, (start + count) * pixels),
          y: batch.y.slice(start, start + count),
          n: count,
        };
        return this.send(k, msg);
      }),
    );
    const grads = weightedMean(results.map((r) => ({ values: r.grads, n: r.n })));
    return {
      grads: new Map(this.specs.map((s, i) => [s.name, grads[i]])),
      loss: results.reduce((s, r) => s + (r.loss * r.n) / batch.n, 0),
      hits: results.reduce((s, r) => s + r.hits, 0),
    };
  }

  private send(index: number, msg: Extract<ToWorker, { type: 'step' }>): Promise<ResultMessage> {
    return new Promise<ResultMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(msg.id)) reject(new Error(`${FN}.gradients(): worker ${index} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(msg.id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const transfer = [...msg.trainables.map((t) => t.buffer as ArrayBuffer), msg.x.buffer as ArrayBuffer, msg.y.buffer as ArrayBuffer];
      this.threads[index].postMessage(msg, transfer);
    });
  }

  /** Stops every worker; safe to call twice. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    this.fail(new Error(`${FN}: closed`));
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
