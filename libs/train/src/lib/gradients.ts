import * as tf from '@tensorflow/tfjs';
import type { Batch } from '@fedsnell/data';
import type { SnellConfig } from '@fedsnell/snell';
import { createRng } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { ForwardOptions } from '@fedsnell/vit';
import type { TrainerConfig } from './config';
import type { TrainableModel } from './model';
import { thresholdsFor } from './thresholds';

/** One batch's gradients of the mean cross-entropy; whoever receives them disposes every tensor. */
export interface BatchGradients {
  /** by trainable name; a trainable the loss does not reach may be missing */
  grads: tf.NamedTensorMap;
  /** mean cross-entropy over the batch (without any FedProx term) */
  loss: tf.Scalar;
  /** correct predictions in the batch */
  hits: tf.Scalar;
}

/**
 * Where the training loop gets its gradients: this thread (localGradients) or worker threads
 * (workerGradients in @fedsnell/train/node). The loop owns the variables, optimizer, schedule and
 * FedProx term; a source only differentiates the loss of a batch at the variables' current values.
 */
export interface GradientSource {
  /**
   * `step` is the 0-based optimizer step the gradients are for (seeds per-step randomness); `snell`,
   * when given, is the adapter configuration of this step (a sparsity schedule changes it), else the run's
   */
  gradients(variables: ReadonlyMap<string, tf.Variable>, batch: Batch, step: number, snell?: SnellConfig): Promise<BatchGradients>;
  close(): Promise<void> | void;
}

/** What a source is built from: the resolved trainer config and the run's starting state. */
export interface GradientRun {
  config: TrainerConfig;
  initial: TensorMap;
  snell?: SnellConfig;
  numClasses: number;
  /** added to the logits inside the loss (logit adjustment; see logitOffsets), absent = none */
  logitOffsets?: Float32Array;
}

export type GradientSourceFactory = (run: GradientRun) => GradientSource | Promise<GradientSource>;

/**
 * Gradients of the mean softmax cross-entropy of `model.forward` over a batch with respect to
 * `trainables`, plus the loss and the correct predictions. The one loss every source differentiates.
 * `logitOffsets` (logit adjustment) shift the logits the loss sees; accuracy counts the plain logits.
 */
export function crossEntropyGradients(
  model: TrainableModel,
  trainables: ReadonlyMap<string, tf.Variable>,
  batch: Batch,
  numClasses: number,
  forward: Omit<ForwardOptions, 'trainables'>,
  logitOffsets?: Float32Array,
): BatchGradients {
  return tf.tidy(() => {
    const [h, w] = model.config.imgSize;
    const x = tf.tensor4d(batch.x, [batch.n, 3, h, w]);
    const labels = tf.tensor1d(batch.y, 'int32');
    const oneHot = tf.oneHot(labels, numClasses);
    let logits: tf.Tensor2D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      logits = tf.keep(model.forward(x, { ...forward, trainables }));
      const seen = logitOffsets ? tf.add(logits, tf.tensor1d(logitOffsets)) : logits;
      return tf.losses.softmaxCrossEntropy(oneHot, seen) as tf.Scalar;
    }, [...trainables.values()]);
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of trainables) {
      const g = grads[v.name];
      if (g) named[name] = g;
    }
    // logits was kept out of variableGrads' scope for the accuracy; this tidy releases it
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits as tf.Tensor2D, 1), labels), 'int32')) as tf.Scalar;
    (logits as tf.Tensor2D).dispose();
    return { grads: named, loss: value, hits };
  });
}

/**
 * Gradients computed on this thread by `model` (any backend). Dropout draws come from one generator
 * seeded with the trainer seed for the whole run; `gradientMasks` multiply the gradients of the
 * named weights (mask-based sparse tuning).
 */
export function localGradients(model: TrainableModel, gradientMasks?: ReadonlyMap<string, tf.Tensor>): GradientSourceFactory {
  return ({ config, snell, numClasses, logitOffsets }) => {
    const rng = createRng(config.seed);
    return {
      async gradients(variables, batch, _step, stepSnell) {
        const adapter = stepSnell ?? snell;
        const thresholds = await thresholdsFor(variables, adapter);
        return crossEntropyGradients(model, variables, batch, numClasses, {
          snell: adapter,
          gradientMasks,
          thresholds,
          checkpoint: config.checkpoint,
          training: true,
          adapterDropout: config.adapterDropout,
          dropPath: config.dropPath,
          rng,
        }, logitOffsets);
      },
      close() {
        // the model belongs to the caller
      },
    };
  };
}
