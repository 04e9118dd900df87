import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import { createRng } from '@fedsnell/snell';
import { batchIterator, type Dataset } from '@fedsnell/data';
import { AdamW, DEFAULT_ADAMW } from './adamw';
import { resolveTrainerConfig, type TrainerConfig } from './config';
import type { TrainMetrics, TrainProgress } from './events';
import type { TrainableModel } from './model';
import { learningRateAt, scheduleFor } from './schedule';
import { toTensorMap, toVariables, trainMetrics } from './state';
import { thresholdsFor } from './thresholds';

export interface TrainOptions {
  model: TrainableModel;
  data: Dataset;
  /** starting trainable state (factors, head, cls_token — or backbone weights for full tuning) */
  initial: TensorMap;
  /** adapter configuration; omit for full fine-tuning */
  snell?: SnellConfig;
  config?: Partial<TrainerConfig>;
  /** fixed 0/1 gradient masks by weight name (mask-based sparse tuning baseline) */
  gradientMasks?: ReadonlyMap<string, tf.Tensor>;
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
 * towards the starting state. Deterministic for a given seed, data and backend.
 */
export async function trainLocal(options: TrainOptions): Promise<TrainResult> {
  const cfg = resolveTrainerConfig(options.config);
  const { model, data, snell, gradientMasks, onProgress, signal } = options;
  const now = options.now ?? (() => performance.now());
  if (data.size === 0) throw new Error('trainLocal(): the dataset is empty');
  const [h, w] = model.config.imgSize;
  const schedule = scheduleFor(cfg, data.size);
  const { totalSteps } = schedule;

  const variables = toVariables(options.initial);
  const anchors = cfg.proximalMu > 0 ? toVariables(options.initial, false) : undefined;
  const optimizer = new AdamW(variables, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  const rng = createRng(cfg.seed);
  const varList = [...variables.values()];
  const names = [...variables.keys()];

  let step = 0;
  let seen = 0;
  let lossSum = 0;
  let correct = 0;
  const started = now();
  try {
    outer: for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      for await (const batch of batchIterator(data, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, epoch })) {
        if (signal?.aborted) throw new Error('trainLocal(): aborted');
        const lr = learningRateAt(step, schedule);
        const thresholds = await thresholdsFor(variables, snell);
        const [lossT, hitsT] = tf.tidy(() => {
          const x = tf.tensor4d(batch.x, [batch.n, 3, h, w]);
          const labels = tf.oneHot(tf.tensor1d(batch.y, 'int32'), data.classes.length);
          let logits: tf.Tensor2D | undefined;
          const { value, grads } = tf.variableGrads(() => {
            logits = tf.keep(
              model.forward(x, {
                trainables: variables,
                snell,
                gradientMasks,
                thresholds,
                checkpoint: cfg.checkpoint,
                training: true,
                adapterDropout: cfg.adapterDropout,
                dropPath: cfg.dropPath,
                rng,
              }),
            );
            let l = tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
            if (anchors) l = tf.add(l, tf.mul(cfg.proximalMu / 2, proximalTerm(variables, anchors)));
            return l;
          }, varList);
          const named: tf.NamedTensorMap = {};
          names.forEach((name, i) => {
            const g = grads[varList[i].name];
            if (g) named[name] = g;
          });
          optimizer.step(named, lr);
          // logits was kept out of variableGrads' scope for the accuracy; this tidy releases it
          const predicted = tf.argMax(logits as tf.Tensor2D, 1);
          (logits as tf.Tensor2D).dispose();
          const hit = tf.sum(tf.cast(tf.equal(predicted, tf.tensor1d(batch.y, 'int32')), 'int32'));
          return [value, hit];
        });
        // asynchronous reads: WebGPU in Node cannot read synchronously, and browsers stall on it
        const loss = (await lossT.data())[0];
        const hits = (await hitsT.data())[0];
        lossT.dispose();
        hitsT.dispose();
        if (!Number.isFinite(loss)) throw new Error(`trainLocal(): loss became ${loss} at step ${step}; lower the learning rate`);
        step += 1;
        seen += batch.n;
        lossSum += loss * batch.n;
        correct += hits;
        const seconds = (now() - started) / 1000;
        onProgress?.({ epoch, step, totalSteps, loss, lr, examplesPerSecond: seconds > 0 ? seen / seconds : 0 });
        if (step >= totalSteps) break outer;
        // let timers, sockets and signals run between steps
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const metrics = trainMetrics({ seen, lossSum, correct, steps: step }, (now() - started) / 1000);
    return { state: await toTensorMap(variables), metrics };
  } finally {
    optimizer.dispose();
    for (const v of variables.values()) v.dispose();
    if (anchors) for (const v of anchors.values()) v.dispose();
  }
}

function proximalTerm(variables: Map<string, tf.Variable>, anchors: Map<string, tf.Variable>): tf.Scalar {
  let total: tf.Scalar = tf.scalar(0);
  for (const [name, v] of variables) {
    total = tf.add(total, tf.sum(tf.square(tf.sub(v, anchors.get(name) as tf.Variable))));
  }
  return total;
}

// setImmediate exists in Node; browsers fall back to a resolved microtask-free timeout.
const setImmediate: (cb: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : (cb) => setTimeout(cb, 0);
