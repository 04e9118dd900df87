import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { TrainMetrics } from './events';

let counter = 0;

/** Trainable tfjs variables from a TensorMap (names kept as map keys; tfjs names made unique). */
export function toVariables(state: TensorMap, trainable = true): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const run = counter++;
  for (const [name, t] of state) {
    const initial = tf.tensor(t.data, t.shape);
    // a variable shares the initial tensor's data but not its handle: release the handle
    out.set(name, tf.variable(initial, trainable, `fedsnell/${run}/${name}`));
    initial.dispose();
  }
  return out;
}

/** Copies tensors back to the CPU as a TensorMap, in the same order. */
export async function toTensorMap(tensors: ReadonlyMap<string, tf.Tensor>): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const [name, t] of tensors) {
    out.set(name, { shape: [...t.shape], data: Float32Array.from(await t.data()) });
  }
  return out;
}

/** Sums a training loop keeps: examples seen, Σ loss·n, correct predictions, optimizer steps. */
export interface RunningTotals {
  seen: number;
  lossSum: number;
  correct: number;
  steps: number;
}

/** The metrics of a finished local run. */
export function trainMetrics(t: RunningTotals, seconds: number): TrainMetrics {
  return {
    loss: t.lossSum / t.seen,
    accuracy: t.correct / t.seen,
    examples: t.seen,
    steps: t.steps,
    seconds,
    examplesPerSecond: seconds > 0 ? t.seen / seconds : 0,
  };
}
