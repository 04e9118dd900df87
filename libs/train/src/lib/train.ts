import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import { batchIterator, type Batch, type Dataset } from '@fedsnell/data';
import { AdamW, DEFAULT_ADAMW, factorLrScaler } from './adamw';
import { resolveTrainerConfig, type TrainerConfig } from './config';
import type { TrainMetrics, TrainProgress } from './events';
import { localGradients, type GradientSource, type GradientSourceFactory } from './gradients';
import type { TrainableModel } from './model';
import { withProximalTerm } from './proximal';
import { logitOffsets } from './logit-adjustment';
import { learningRateAt, scheduleFor } from './schedule';
import { snellAtStep, sparsityScheduleFor } from './sparsity-schedule';
import { toTensorMap, toVariables, trainMetrics, type RunningTotals } from './state';

export interface TrainOptions {
  /** the frozen backbone with its forward pass; required unless `gradients` is given */
  model?: TrainableModel;
  data: Dataset;
  /** starting trainable state (factors, head, cls_token — or backbone weights for full tuning) */
  initial: TensorMap;
  /** adapter configuration; omit for full fine-tuning */
  snell?: SnellConfig;
  config?: Partial<TrainerConfig>;
  /** fixed 0/1 gradient masks by weight name (mask-based sparse tuning baseline) */
  gradientMasks?: ReadonlyMap<string, tf.Tensor>;
  /**
   * where gradients come from; default: `model` on this thread. @fedsnell/train/node's `train`
   * passes worker threads here for `workers > 1`.
   */
  gradients?: GradientSourceFactory;
  onProgress?: (event: TrainProgress) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface TrainResult {
  state: TensorMap;
  metrics: TrainMetrics;
}

/**
 * Local training of the trainables only (the backbone stays frozen): AdamW with decoupled decay on the
 * factors and head weight, warm-up + cosine schedule, cross-entropy, optional FedProx proximal term
 * towards the starting state. Deterministic for a given seed, data, backend and gradient source.
 * The next batch loads while the current one is differentiated.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const cfg = resolveTrainerConfig(options.config);
  const { data, initial, snell, onProgress, signal } = options;
  const now = options.now ?? (() => performance.now());
  if (data.size === 0) throw new Error('train(): the dataset is empty');
  const schedule = scheduleFor(cfg, data.size);
  const { totalSteps } = schedule;
  // dense warm-up / sparsity ramp; without them every step trains the given configuration object
  const sparsity = snell && (cfg.denseWarmupEpochs > 0 || cfg.sparsityRampEpochs > 0) ? sparsityScheduleFor(cfg, snell.sparsity, data.size) : undefined;
  const factory = options.gradients ?? (options.model && localGradients(options.model, options.gradientMasks));
  if (!factory) throw new Error('train(): a model is required to train on this thread');

  const variables = toVariables(initial);
  const anchors = cfg.proximalMu > 0 ? toVariables(initial, false) : undefined;
  const optimizer = new AdamW(variables, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay, lrScale: factorLrScaler(cfg.factorLrScale) });
  const totals: RunningTotals = { seen: 0, lossSum: 0, correct: 0, steps: 0 };
  // the batch being prefetched when the loop stops early; its result is then dropped
  let next: Promise<IteratorResult<Batch>> | undefined;
  let source: GradientSource | undefined;
  try {
    const numClasses = data.classes.length;
    source = await factory({ config: cfg, initial, snell, numClasses, logitOffsets: logitOffsets(data.labels, numClasses, cfg.logitAdjustment) });
    const started = now();
    outer: for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const batches = batchIterator(data, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, epoch });
      next = batches.next();
      for (;;) {
        const current = await next;
        if (current.done) break;
        const batch = current.value;
        next = batches.next();
        if (signal?.aborted) throw new Error('train(): aborted');
        const step = totals.steps;
        const lr = learningRateAt(step, schedule);
        const computed = await source.gradients(variables, batch, step, snellAtStep(snell, step, sparsity));
        let loss: number;
        let hits: number;
        try {
          const lossT = tf.tidy(() => {
            const { grads, loss } = anchors ? withProximalTerm(computed.grads, computed.loss, variables, anchors, cfg.proximalMu) : computed;
            optimizer.step(grads, lr);
            return tf.clone(loss);
          });
          // asynchronous reads: WebGPU in Node cannot read synchronously, and browsers stall on it
          loss = (await lossT.data())[0];
          lossT.dispose();
          hits = (await computed.hits.data())[0];
        } finally {
          tf.dispose([computed.loss, computed.hits, computed.grads]);
        }
        if (!Number.isFinite(loss)) throw new Error(`train(): loss became ${loss} at step ${step}; lower the learning rate`);
        totals.steps += 1;
        totals.seen += batch.n;
        totals.lossSum += loss * batch.n;
        totals.correct += hits;
        const seconds = (now() - started) / 1000;
        onProgress?.({ epoch, step: totals.steps, totalSteps, loss, lr, examplesPerSecond: seconds > 0 ? totals.seen / seconds : 0 });
        if (totals.steps >= totalSteps) break outer;
        // let timers, sockets and signals run between steps
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const metrics = trainMetrics(totals, (now() - started) / 1000);
    return { state: await toTensorMap(variables), metrics };
  } finally {
    next?.catch(() => undefined);
    await source?.close();
    optimizer.dispose();
    for (const v of variables.values()) v.dispose();
    if (anchors) for (const v of anchors.values()) v.dispose();
  }
}

// setImmediate exists in Node; browsers fall back to a zero timeout.
const setImmediate: (cb: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : (cb) => setTimeout(cb, 0);
