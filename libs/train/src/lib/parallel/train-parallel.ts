import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { batchIterator, type Batch } from '@fedsnell/data';
import { resolveVitConfig } from '@fedsnell/vit';
import { AdamW, DEFAULT_ADAMW } from '../adamw';
import { resolveTrainerConfig } from '../config';
import { learningRateAt, scheduleFor } from '../schedule';
import { toTensorMap, toVariables, trainMetrics } from '../state';
import type { TrainOptions, TrainResult } from '../trainer';
import { ParallelGradientEngine, type BackboneSource } from './parallel-engine';

export interface ParallelTrainOptions extends Omit<TrainOptions, 'model' | 'gradientMasks'> {
  /** the frozen backbone, handed to every worker */
  backbone: BackboneSource;
  /** worker threads; default: the number of cores, at most 4 */
  workers?: number;
  /** tfjs backend inside the workers */
  backend?: 'wasm' | 'cpu';
  /** per-block gradient checkpointing in the workers (far less activation memory, ~1 extra forward) */
  checkpoint?: boolean;
}

/**
 * trainLocal with the gradients computed by worker threads (data parallel over the batch): same
 * batches, schedule, AdamW (on this thread), FedProx term and result. With adapter dropout and
 * drop-path at 0 the state equals trainLocal's up to float32 summation order; with them on, the
 * random masks are drawn per worker from (seed, step, worker), so they depend on the worker count.
 * Gradient masks (mask-based sparse tuning) are not supported here. Node only.
 */
export async function trainLocalParallel(options: ParallelTrainOptions): Promise<TrainResult> {
  const cfg = resolveTrainerConfig(options.config);
  const { data, snell, onProgress, signal } = options;
  const now = options.now ?? (() => performance.now());
  if (data.size === 0) throw new Error('trainLocalParallel(): the dataset is empty');
  // Fail on a bad config.json here, with its own message, before any worker starts.
  resolveVitConfig(options.backbone.configJson);
  const schedule = scheduleFor(cfg, data.size);
  const { totalSteps } = schedule;
  const specs = [...options.initial].map(([name, t]) => ({ name, shape: [...t.shape] }));
  const engine = await ParallelGradientEngine.create({
    backbone: options.backbone,
    trainables: specs,
    snell,
    numClasses: data.classes.length,
    workers: options.workers,
    backend: options.backend,
    adapterDropout: cfg.adapterDropout,
    dropPath: cfg.dropPath,
    checkpoint: options.checkpoint,
  });
  const variables = toVariables(options.initial);
  const anchors: TensorMap | undefined = cfg.proximalMu > 0 ? options.initial : undefined;
  const optimizer = new AdamW(variables, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  let step = 0;
  let seen = 0;
  let lossSum = 0;
  let correct = 0;
  // the batch being prefetched when the loop stops early; its result is then dropped
  let next: Promise<IteratorResult<Batch>> | undefined;
  const started = now();
  try {
    outer: for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const batches = batchIterator(data, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, epoch });
      // The next batch loads (decodes) on this thread while the workers compute the current one.
      next = batches.next();
      for (;;) {
        const current = await next;
        if (current.done) break;
        const batch = current.value;
        next = batches.next();
        if (signal?.aborted) throw new Error('trainLocalParallel(): aborted');
        const lr = learningRateAt(step, schedule);
        const values = new Map<string, Float32Array>();
        for (const [name, v] of variables) values.set(name, v.dataSync() as Float32Array);
        const result = await engine.gradients(values, { x: batch.x, y: batch.y, n: batch.n }, cfg.seed * 1_000_003 + step);
        let loss = result.loss;
        if (anchors) loss += addProximal(result.grads, values, anchors, cfg.proximalMu);
        tf.tidy(() => {
          const named: tf.NamedTensorMap = {};
          for (const s of specs) named[s.name] = tf.tensor(result.grads.get(s.name) as Float32Array, s.shape);
          optimizer.step(named, lr);
        });
        if (!Number.isFinite(loss)) throw new Error(`trainLocalParallel(): loss became ${loss} at step ${step}; lower the learning rate`);
        step += 1;
        seen += batch.n;
        lossSum += loss * batch.n;
        correct += result.hits;
        const seconds = (now() - started) / 1000;
        onProgress?.({ epoch, step, totalSteps, loss, lr, examplesPerSecond: seconds > 0 ? seen / seconds : 0 });
        if (step >= totalSteps) break outer;
      }
    }
    const metrics = trainMetrics({ seen, lossSum, correct, steps: step }, (now() - started) / 1000);
    return { state: await toTensorMap(variables), metrics };
  } finally {
    next?.catch(() => undefined);
    await engine.close();
    optimizer.dispose();
    for (const v of variables.values()) v.dispose();
  }
}

/**
 * FedProx: adds μ·(w − w₀) to each gradient in place and returns μ/2·‖w − w₀‖², as trainLocal's
 * proximal term contributes to the loss it differentiates.
 */
function addProximal(grads: Map<string, Float32Array>, values: ReadonlyMap<string, Float32Array>, anchors: TensorMap, mu: number): number {
  let sq = 0;
  for (const [name, g] of grads) {
    const w = values.get(name) as Float32Array;
    const w0 = (anchors.get(name) as { data: Float32Array }).data;
    for (let i = 0; i < g.length; i++) {
      const d = w[i] - w0[i];
      g[i] += mu * d;
      sq += d * d;
    }
  }
  return (mu / 2) * sq;
}
