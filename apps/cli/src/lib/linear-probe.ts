import * as tf from '@tensorflow/tfjs';
import { batchIterator, type Dataset } from '@fedsnell/data';
import type { VisionTransformer } from '@fedsnell/vit';

export interface ProbeResult {
  accuracy: number;
  loss: number;
  trainExamples: number;
  testExamples: number;
  seconds: number;
}

/**
 * The head-only baseline: a softmax classifier on the frozen backbone's features (the final-norm
 * class token, read by replacing the head with the identity), fitted on `train` to convergence
 * (full-batch Adam, L2 on the weights) and scored on `test`. This is the accuracy a pretrained
 * backbone gives without adapting any of its layers.
 */
export async function linearProbe(model: VisionTransformer, train: Dataset, test: Dataset, options: { steps?: number; l2?: number } = {}): Promise<ProbeResult> {
  const started = performance.now();
  const steps = options.steps ?? 300;
  const l2 = options.l2 ?? 1e-3;
  const classes = train.classes.length;
  if (test.classes.length !== classes) throw new Error(`linearProbe(): train has ${classes} classes but test has ${test.classes.length}`);
  const trainFeatures = await features(model, train);
  const testFeatures = await features(model, test);
  const d = model.config.embedDim;
  // standardise with the training statistics so one learning rate suits any backbone
  const [mean, std] = tf.tidy(() => {
    const { mean: m, variance } = tf.moments(trainFeatures.x, 0);
    return [m, tf.sqrt(tf.add(variance, 1e-6))];
  });
  const xTrain = tf.tidy(() => tf.div(tf.sub(trainFeatures.x, mean), std));
  const xTest = tf.tidy(() => tf.div(tf.sub(testFeatures.x, mean), std));
  const yTrain = tf.oneHot(tf.tensor1d(trainFeatures.y, 'int32'), classes);
  const yTest = tf.oneHot(tf.tensor1d(testFeatures.y, 'int32'), classes);
  const w = tf.variable(tf.zeros([d, classes]));
  const b = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.adam(0.05);
  try {
    for (let s = 0; s < steps; s++) {
      optimizer.minimize(() =>
        tf.add(tf.losses.softmaxCrossEntropy(yTrain, tf.add(tf.matMul(xTrain, w), b)), tf.mul(l2, tf.sum(tf.square(w)))),
      );
    }
    const [loss, correct] = tf.tidy(() => {
      const logits = tf.add(tf.matMul(xTest, w), b);
      return [tf.losses.softmaxCrossEntropy(yTest, logits), tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(yTest, 1)), 'float32'))];
    });
    const result = {
      accuracy: (await correct.data())[0] / testFeatures.y.length,
      loss: (await loss.data())[0],
      trainExamples: trainFeatures.y.length,
      testExamples: testFeatures.y.length,
      seconds: (performance.now() - started) / 1000,
    };
    tf.dispose([loss, correct]);
    return result;
  } finally {
    optimizer.dispose();
    tf.dispose([trainFeatures.x, testFeatures.x, mean, std, xTrain, xTest, yTrain, yTest, w, b]);
  }
}

async function features(model: VisionTransformer, data: Dataset): Promise<{ x: tf.Tensor2D; y: Int32Array }> {
  const d = model.config.embedDim;
  const [h, w] = model.config.imgSize;
  const identity = new Map<string, tf.Tensor>([
    ['head.weight', tf.eye(d)],
    ['head.bias', tf.zeros([d])],
  ]);
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  try {
    for await (const batch of batchIterator(data, { batchSize: 64 })) {
      const f = tf.tidy(() => model.forward(tf.tensor4d(batch.x, [batch.n, 3, h, w]), { trainables: identity }));
      rows.push((await f.data()) as Float32Array);
      f.dispose();
      labels.push(...batch.y);
    }
  } finally {
    tf.dispose([...identity.values()]);
  }
  const x = new Float32Array(labels.length * d);
  let offset = 0;
  for (const r of rows) {
    x.set(r, offset);
    offset += r.length;
  }
  return { x: tf.tensor2d(x, [labels.length, d]), y: Int32Array.from(labels) };
}
