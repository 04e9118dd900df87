import * as tf from '@tensorflow/tfjs';
import { layerNorm } from './layer-norm';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('layerNorm', () => {
  it('normalises each row, then scales and shifts', () =>
    tf.tidy(() => {
      // row [1, 3]: mean 2, variance 1 → [-1, 1]; row [2, 2]: variance 0 → [0, 0]
      const y = layerNorm(tf.tensor2d([[1, 3], [2, 2]]), tf.tensor1d([2, 3]), tf.tensor1d([0.5, -1])).arraySync();
      [[-1.5, 2], [0.5, -1]].flat().forEach((v, i) => expect(y.flat()[i]).toBeCloseTo(v, 5));
    }));

  it('uses eps 1e-6 by default', () =>
    tf.tidy(() => {
      // variance 1e-6 → x̂ = ±1e-3 / √(2e-6) = ±0.7071
      const y = layerNorm(tf.tensor2d([[0, 2e-3]]), tf.tensor1d([1, 1]), tf.tensor1d([0, 0])).arraySync();
      expect(y[0][1]).toBeCloseTo(Math.SQRT1_2, 3);
    }));

  it('has the gradients (x, γ, β) of the composed ops', () =>
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 3, -2], [0.5, 2, 2.5]]);
      const gamma = tf.tensor1d([2, -1, 0.5]);
      const beta = tf.tensor1d([0.1, 0.2, 0.3]);
      const g = tf.tensor2d([[1, -2, 0.5], [3, 1, -1]]);
      const composed = (a: tf.Tensor2D, ga: tf.Tensor1D, b: tf.Tensor1D) => {
        const centred = tf.sub(a, tf.mean(a, -1, true));
        return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-6))), ga), b);
      };
      const loss = (f: typeof composed) => (a: tf.Tensor, ga: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor2D, ga as tf.Tensor1D, b as tf.Tensor1D), g));
      const ours = tf.grads(loss(layerNorm))([x, gamma, beta]);
      const reference = tf.grads(loss(composed))([x, gamma, beta]);
      ours.forEach((t, i) => expect(tf.max(tf.abs(tf.sub(t, reference[i]))).dataSync()[0]).toBeLessThan(1e-5));
      tf.dispose([x, gamma, beta, g, ...ours, ...reference]);
    }));

  it('leaks no tensors in forward and backward', () =>
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 3], [2, 5]]);
      const gamma = tf.tensor1d([1, 2]);
      const beta = tf.tensor1d([0, 1]);
      const before = tf.memory().numTensors;
      tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(layerNorm(a as tf.Tensor2D, gamma, beta)))([x]));
      layerNorm(x, gamma, beta).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, gamma, beta]);
    }));
});
