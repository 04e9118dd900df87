import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import { batchIterator, type Dataset } from '@fedsnell/data';
import type { TrainableModel } from './model';
import { thresholdsFor } from './thresholds';

export interface ClassScore {
  name: string;
  correct: number;
  count: number;
  accuracy: number;
}

export interface EvalResult {
  accuracy: number;
  loss: number;
  count: number;
  perClass: ClassScore[];
}

export interface EvaluateOptions {
  model: TrainableModel;
  data: Dataset;
  /** trained state (adapter factors, head, cls_token); omit to score the backbone as it is */
  trainables?: TensorMap;
  snell?: SnellConfig;
  batchSize?: number;
  onBatch?: (done: number, total: number) => void;
}

/**
 * Accuracy and mean cross-entropy on a dataset, in index order, without dropout. The model's class
 * count must match the dataset's (a backbone's own head, or the adapter's head).
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const { model, data, snell, onBatch } = options;
  const batchSize = options.batchSize ?? 64;
  const [h, w] = model.config.imgSize;
  const classes = data.classes.length;
  const trainables = new Map<string, tf.Tensor>();
  for (const [name, t] of options.trainables ?? new Map()) trainables.set(name, tf.tensor(t.data, t.shape));
  const correct = new Array<number>(classes).fill(0);
  const count = new Array<number>(classes).fill(0);
  let lossSum = 0;
  let done = 0;
  try {
    const thresholds = await thresholdsFor(trainables, snell);
    for await (const batch of batchIterator(data, { batchSize })) {
      const [lossT, predictedT] = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [batch.n, 3, h, w]);
        const logits = model.forward(x, { trainables, snell, thresholds, training: false });
        if (logits.shape[1] !== classes) {
          throw new Error(
            `evaluate(): the model predicts ${logits.shape[1]} classes but the data has ${classes} (${data.classes.join(', ')})`,
          );
        }
        const labels = tf.oneHot(tf.tensor1d(batch.y, 'int32'), classes);
        const l = tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.SUM);
        return [l, tf.argMax(logits, 1)];
      });
      const loss = (await lossT.data())[0];
      const predicted = await predictedT.data();
      lossT.dispose();
      predictedT.dispose();
      lossSum += loss;
      batch.y.forEach((label, i) => {
        count[label] += 1;
        if (predicted[i] === label) correct[label] += 1;
      });
      done += batch.n;
      onBatch?.(done, data.size);
    }
  } finally {
    for (const t of trainables.values()) t.dispose();
  }
  const total = count.reduce((a, b) => a + b, 0);
  const hits = correct.reduce((a, b) => a + b, 0);
  return {
    accuracy: total > 0 ? hits / total : 0,
    loss: total > 0 ? lossSum / total : 0,
    count: total,
    perClass: data.classes.map((name, i) => ({
      name,
      correct: correct[i],
      count: count[i],
      accuracy: count[i] > 0 ? correct[i] / count[i] : 0,
    })),
  };
}
