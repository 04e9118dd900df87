import { train as trainOnThisThread, type TrainOptions, type TrainResult } from '../train';
import { resolveWorkers, type BackboneSource } from './parallel-engine';
import { workerGradients } from './worker-gradients';

export interface NodeTrainOptions extends Omit<TrainOptions, 'gradients'> {
  /**
   * data-parallel worker threads, each with its own wasm/cpu backend (tfjs-wasm is single-threaded
   * in Node), or 'auto': the number of cores, at most 4. 1 or absent: train on this thread.
   */
  workers?: number | 'auto';
  /** the frozen backbone handed to every worker; required for more than one worker */
  backbone?: BackboneSource;
  /** tfjs backend inside the workers (default wasm) */
  backend?: 'wasm' | 'cpu';
}

/**
 * The trainer of @fedsnell/train with a worker count: the same loop, schedule, optimizer and FedProx
 * term, with the gradients computed on this thread (1 worker) or by worker threads. Node only.
 */
export async function train(options: NodeTrainOptions): Promise<TrainResult> {
  const { workers: requested, backbone, backend, ...common } = options;
  const workers = resolveWorkers(requested, 'workers passed to train()');
  if (workers === 1) return trainOnThisThread(common);
  if (!backbone) throw new Error(`train(): workers ${workers} needs the backbone to hand to each worker`);
  if (common.gradientMasks) throw new Error(`train(): gradientMasks are not supported with workers ${workers}`);
  return trainOnThisThread({ ...common, gradients: workerGradients({ backbone, workers, backend }) });
}
