import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';

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
