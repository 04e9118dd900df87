import * as tf from '@tensorflow/tfjs';
import { resolveVitConfig } from '@fedsnell/vit';
import { resolveTrainerConfig } from '../config';
import { train as trainOnThisThread, type TrainOptions, type TrainResult } from '../train';
import { autoWorkerCount } from './auto-workers';
import { resolveWorkers, type BackboneSource } from './parallel-engine';
import { workerGradients } from './worker-gradients';

export interface NodeTrainOptions extends Omit<TrainOptions, 'gradients'> {
  /**
   * data-parallel worker threads, each with its own wasm/cpu backend (tfjs-wasm is single-threaded
   * in Node), or 'auto': one per core (at most 4) when this thread runs wasm or cpu and the backbone
   * is large enough for threads to pay (autoWorkerCount), else 1. 1 or absent: train on this thread.
   */
  workers?: number | 'auto';
  /** the frozen backbone handed to every worker; required for more than one worker and for 'auto' to use any */
  backbone?: BackboneSource;
  /** tfjs backend inside the workers (default wasm) */
  backend?: 'wasm' | 'cpu';
}

/**
 * The worker count a Node training run uses: `workers` as given, or for 'auto' autoWorkerCount of
 * the backbone, the batch size (capped by the dataset) and this thread's backend.
 */
export function workersFor(options: Pick<NodeTrainOptions, 'workers' | 'backbone' | 'config' | 'data'>): number {
  const { workers, backbone } = options;
  if (workers !== 'auto') return resolveWorkers(workers, 'workers passed to train()');
  if (!backbone) return 1;
  const batch = Math.min(resolveTrainerConfig(options.config).batchSize, options.data.size);
  return autoWorkerCount(resolveVitConfig(backbone.configJson), batch, tf.getBackend());
}

/**
 * The trainer of @fedsnell/train with a worker count: the same loop, schedule, optimizer and FedProx
 * term, with the gradients computed on this thread (1 worker) or by worker threads. Node only.
 */
export async function train(options: NodeTrainOptions): Promise<TrainResult> {
  const { workers: requested, backbone, backend, ...common } = options;
  const workers = common.gradientMasks && requested === 'auto' ? 1 : workersFor(options);
  if (workers === 1) return trainOnThisThread(common);
  if (!backbone) throw new Error(`train(): workers ${workers} needs the backbone to hand to each worker`);
  if (common.gradientMasks) throw new Error(`train(): gradientMasks are not supported with workers ${workers}`);
  return trainOnThisThread({ ...common, gradients: workerGradients({ backbone, workers, backend }) });
}
