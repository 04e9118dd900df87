import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrainedRound } from '@fedsnell/client';
import type { RawImage } from '@fedsnell/data';
import type { SnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { TrainerConfig, TrainMetrics } from '@fedsnell/train';

export interface SimWorkerInit {
  type: 'init';
  backend: string;
  backboneBytes: Uint8Array;
  configJson: Record<string, unknown>;
  classes: string[];
  labels: Int32Array;
  images: RawImage[];
}

export interface SimTrainJob {
  /** indices of the client's shard in the training pool */
  shard: number[];
  initial: TensorMap;
  config: TrainerConfig;
  snell: SnellConfig;
}

export type ToSimWorker = SimWorkerInit | ({ type: 'train'; id: number } & SimTrainJob) | { type: 'close' };
export type FromSimWorker =
  | { type: 'ready' }
  | { type: 'trained'; id: number; state: TensorMap; metrics: TrainMetrics }
  | { type: 'error'; id: number | undefined; message: string };

/**
 * The thread's file: in the repository a tsx bootstrap beside this module, in the package the compiled
 * thread beside the CLI bundle (tools/build-cli.cjs), under the same name.
 */
const WORKER_FILE = join(__dirname, 'sim-worker-entry.cjs');

/**
 * Training threads for the simulation: each holds its own tfjs backend and one copy of the backbone
 * and the training pool, and trains one client's round at a time with `train`, as the main thread
 * would (the same wasm kernels give the same numbers on any thread). Rounds go to the first idle
 * thread.
 */
export class SimWorkers {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly pending = new Map<number, { resolve: (r: TrainedRound) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly threads: Worker[]) {}

  static async start(count: number, init: Omit<SimWorkerInit, 'type'>): Promise<SimWorkers> {
    const threads = Array.from({ length: count }, () => new Worker(WORKER_FILE));
    const pool = new SimWorkers(threads);
    try {
      await Promise.all(
        threads.map(
          (thread) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (msg: FromSimWorker) => {
                thread.off('error', reject);
                if (msg.type === 'ready') resolve();
                else reject(new Error(`a simulation training thread could not start: ${msg.type === 'error' ? msg.message : msg.type}`));
              };
              thread.once('message', onMessage);
              thread.once('error', reject);
              thread.postMessage({ type: 'init', ...init } satisfies ToSimWorker);
            }),
        ),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    for (const thread of threads) {
      thread.on('message', (msg: FromSimWorker) => pool.onMessage(thread, msg));
      thread.on('error', (error) => pool.onThreadError(thread, error));
      pool.release(thread);
    }
    return pool;
  }

  /** Trains one client's round on the first idle thread. */
  async train(job: SimTrainJob): Promise<TrainedRound> {
    if (this.closed) throw new Error('the simulation training threads are closed');
    const worker = await this.acquire();
    const id = this.nextId++;
    return new Promise<TrainedRound>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      worker.postMessage({ type: 'train', id, ...job } satisfies ToSimWorker);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new Error('the simulation training threads were closed'));
    this.pending.clear();
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  private onMessage(worker: Worker, msg: FromSimWorker): void {
    if (msg.type === 'ready' || msg.id === undefined) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    this.release(worker);
    if (msg.type === 'trained') p.resolve({ state: msg.state, metrics: msg.metrics });
    else p.reject(new Error(msg.message));
  }

  private onThreadError(worker: Worker, error: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new Error(`a simulation training thread failed: ${error.message}`));
    }
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.shift();
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}
