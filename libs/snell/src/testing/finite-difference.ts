// Test-only: central differences of a scalar function of one tensor (float32, so tiny cases and
// loose tolerances only).
import * as tf from '@tensorflow/tfjs';

export function numericGrad(f: (t: tf.Tensor) => tf.Scalar, at: tf.Tensor, h = 1e-2): Float32Array {
  const base = at.dataSync().slice() as Float32Array;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const value = (delta: number) =>
      tf.tidy(() => {
        const p = base.slice();
        p[i] += delta;
        return f(tf.tensor(p, at.shape)).dataSync()[0];
      });
    out[i] = (value(h) - value(-h)) / (2 * h);
  }
  return out;
}
