import * as tf from '@tensorflow/tfjs';
import { resolveVitConfig } from '@fedsnell/vit';
import type { GradientSourceFactory } from '../gradients';
import { ParallelGradientEngine, type BackboneSource } from './parallel-engine';

export interface WorkerGradientOptions {
  /** the frozen backbone, handed to every worker */
  backbone: BackboneSource;
  /** worker threads, or 'auto': the number of cores, at most 4 */
  workers: number | 'auto';
  /** tfjs backend inside the workers (default wasm) */
  backend?: 'wasm' | 'cpu';
}

/**
 * Gradients computed by worker threads, data parallel over the batch (ParallelGradientEngine). With
 * adapter dropout and drop-path at 0 they equal localGradients' up to float32 summation order; with
 * them on, the random masks are drawn per worker from (seed, step, worker), so they depend on the
 * worker count. Node only.
 */
export function workerGradients(options: WorkerGradientOptions): GradientSourceFactory {
  return async ({ config, initial, snell, numClasses, logitOffsets }) => {
    // Fail on a bad config.json here, with its own message, before any worker starts.
    resolveVitConfig(options.backbone.configJson);
    const specs = [...initial].map(([name, t]) => ({ name, shape: [...t.shape] }));
    const engine = await ParallelGradientEngine.create({
      backbone: options.backbone,
      trainables: specs,
      snell,
      numClasses,
      logitOffsets,
      workers: options.workers,
      backend: options.backend,
      adapterDropout: config.adapterDropout,
      dropPath: config.dropPath,
      checkpoint: config.checkpoint,
    });
    return {
      async gradients(variables, batch, step, stepSnell) {
        const values = new Map<string, Float32Array>();
        for (const [name, v] of variables) values.set(name, (await v.data()) as Float32Array);
        const sparsity = stepSnell && stepSnell !== snell ? stepSnell.sparsity : undefined;
        const result = await engine.gradients(values, batch, config.seed * 1_000_003 + step, sparsity);
        return tf.tidy(() => ({
          grads: Object.fromEntries(specs.map((s) => [s.name, tf.tensor(result.grads.get(s.name) as Float32Array, s.shape)])),
          loss: tf.scalar(result.loss),
          hits: tf.scalar(result.hits, 'int32'),
        }));
      },
      close: () => engine.close(),
    };
  };
}
