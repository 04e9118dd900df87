import * as tf from '@tensorflow/tfjs';
import { ClientError, type TrainingBackend } from '@fedsnell/client';
import { loadTfjsTask, type DatasetData } from '@fedsnell/client/training';
import { parseBackendChoice, useBackend, type BackendChoice } from '@fedsnell/train';
import { resolveWorkers, train } from '@fedsnell/train/node';
import { errorMessage } from '@fedsnell/util';

export interface NodeBackendOptions {
  backend?: BackendChoice;
  /**
   * Data-parallel worker threads for local training (wasm/cpu in each; tfjs-wasm is single-threaded
   * in Node, so this is how a client uses more than one core). Absent or 'auto' (the default): one
   * per core, at most 4, when training runs on wasm or cpu and the task's backbone is large enough
   * for threads to pay (autoWorkerCount of @fedsnell/train/node); else this thread. 1: this thread.
   */
  workers?: number | 'auto';
}

/** tfjs in this process: webgpu (Dawn), wasm or cpu on this thread, or wasm/cpu in worker threads. */
export function nodeTrainingBackend(options: NodeBackendOptions = {}): TrainingBackend<DatasetData> {
  let workers: number | 'auto';
  try {
    workers = options.workers === undefined || options.workers === 'auto' ? 'auto' : resolveWorkers(options.workers, 'workers passed to createNodeClient()');
  } catch (error) {
    throw new ClientError('OPTIONS', errorMessage(error));
  }
  if (workers !== 'auto' && workers > 1 && options.backend !== undefined && options.backend !== 'wasm' && options.backend !== 'cpu') {
    throw new ClientError('OPTIONS', `workers passed to createNodeClient() runs wasm or cpu in worker threads; backend must be wasm or cpu but got ${options.backend}`);
  }
  return {
    init: () => useBackend(parseBackendChoice(options.backend ?? 'auto')),
    load: async (input) =>
      loadTfjsTask(input, ({ model, tensors, config, round, task }) =>
        train({
          model,
          data: task.data.dataset,
          initial: round.initial,
          snell: task.snell,
          config,
          signal: round.signal,
          onProgress: round.onProgress,
          backbone: { configJson: task.task.backbone.config, tensors },
          workers,
          backend: tf.getBackend() === 'cpu' ? 'cpu' : 'wasm',
        }),
      ),
  };
}
