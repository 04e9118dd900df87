import * as tf from '@tensorflow/tfjs';
import { createRng } from '@fedsnell/snell';
import { AdamW, DEFAULT_ADAMW, DEFAULT_TRAINER_CONFIG, toVariables } from '@fedsnell/train';
import type { VisionTransformer } from '@fedsnell/vit';
import type { MethodSetup } from './methods';
import { meter } from './memory-meter';

export interface StepMeasurement {
  stepMs: number[];
  medianStepMs: number;
  imagesPerSecond: number;
  /** distinct buffer bytes alive before a step: backbone + trainables + AdamW m/v (+ masks), minus shadowedBytes */
  residentBytes: number;
  /** frozen backbone bytes that trainables replace (full/mask keep a duplicate the model never reads) */
  shadowedBytes: number;
  /** max distinct buffer bytes alive during the measured steps, minus shadowedBytes */
  peakBytes: number;
  /** max tf.memory().numBytes during the measured steps (counts shared buffers per handle), minus shadowedBytes */
  peakNumBytes: number;
  trainableParams: number;
  optimizerStateBytes: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A training step of the benchmarks and its state; `dispose` releases variables and optimizer. */
export interface TrainStep {
  step: () => number;
  variables: Map<string, tf.Variable>;
  dispose: () => void;
}

/**
 * One optimizer step exactly as train() runs it: variableGrads over forward + softmax
 * cross-entropy (adapter dropout / drop-path at the trainer defaults), then AdamW.step. Returns the loss.
 */
export function createTrainStep(
  model: VisionTransformer,
  setup: MethodSetup,
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
  opts: { regularisation: boolean; checkpoint: boolean },
): TrainStep {
  const variables = toVariables(setup.initial);
  const optimizer = new AdamW(variables, { ...DEFAULT_ADAMW, weightDecay: DEFAULT_TRAINER_CONFIG.weightDecay });
  const rng = createRng(5);
  const varList = [...variables.values()];
  const names = [...variables.keys()];
  const step = (): number =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(
            labels,
            model.forward(x, {
              trainables: variables,
              snell: setup.snell,
              gradientMasks: setup.gradientMasks,
              training: true,
              adapterDropout: opts.regularisation ? DEFAULT_TRAINER_CONFIG.adapterDropout : 0,
              dropPath: opts.regularisation ? DEFAULT_TRAINER_CONFIG.dropPath : 0,
              rng,
              checkpoint: opts.checkpoint,
            }),
          ) as tf.Scalar,
        varList,
      );
      const named: tf.NamedTensorMap = {};
      names.forEach((name, i) => {
        const g = grads[varList[i].name];
        if (g) named[name] = g;
      });
      optimizer.step(named, 1e-4);
      return value.dataSync()[0];
    });
  return {
    step,
    variables,
    dispose: () => {
      optimizer.dispose();
      for (const v of variables.values()) v.dispose();
    },
  };
}

/** Times `opts.steps` steps after `opts.warmup` warm-up steps, with resident and peak memory. */
export async function measureSteps(
  model: VisionTransformer,
  setup: MethodSetup,
  batch: { x: Float32Array; y: Int32Array; n: number; classes: number },
  opts: { warmup: number; steps: number; regularisation: boolean; checkpoint: boolean },
): Promise<StepMeasurement> {
  const [h, w] = model.config.imgSize;
  const x = tf.tensor4d(batch.x, [batch.n, 3, h, w]);
  const labels = tf.oneHot(tf.tensor1d(batch.y, 'int32'), batch.classes) as tf.Tensor2D;
  const train = createTrainStep(model, setup, x, labels, opts);
  const { step } = train;
  try {
    const shadowedBytes = [...setup.initial.keys()].reduce((sum, name) => sum + backboneBytes(model, name), 0);
    const trainableParams = [...setup.initial.values()].reduce((s, t) => s + t.data.length, 0);
    for (let i = 0; i < opts.warmup; i++) step();
    const residentBytes = meter.bufferBytes;
    meter.reset();
    const stepMs: number[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const t0 = performance.now();
      const loss = step();
      stepMs.push(performance.now() - t0);
      if (!Number.isFinite(loss)) throw new Error(`measureSteps(): loss became ${loss}`);
    }
    const medianStepMs = median(stepMs);
    return {
      stepMs: stepMs.map((v) => Math.round(v)),
      medianStepMs: Math.round(medianStepMs),
      imagesPerSecond: round3(batch.n / (medianStepMs / 1000)),
      residentBytes: residentBytes - shadowedBytes,
      shadowedBytes,
      peakBytes: meter.peakBufferBytes - shadowedBytes,
      peakNumBytes: meter.peakNumBytes - shadowedBytes,
      trainableParams,
      optimizerStateBytes: 2 * 4 * trainableParams,
    };
  } finally {
    train.dispose();
    x.dispose();
    labels.dispose();
  }
}

function backboneBytes(model: VisionTransformer, name: string): number {
  try {
    const t = model.backboneTensor(name);
    const bytes = t.size * 4;
    t.dispose();
    return bytes;
  } catch {
    return 0;
  }
}

export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
