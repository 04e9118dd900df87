import * as tf from '@tensorflow/tfjs';
import { checkpoint } from './checkpoint';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('checkpoint', () => {
  // f(x, w) = Σ (x·w)², taken through ops before and after the checkpointed part.
  const inner = ([x, w]: tf.Tensor[]) => tf.square(tf.mul(x, w));
  const loss = (wrap: boolean) => (x: tf.Tensor, w: tf.Tensor) => {
    const before = tf.mul(x, 2);
    const mid = wrap ? checkpoint(inner, [before, w]) : inner([before, w]);
    return tf.sum(tf.mul(mid, tf.tensor1d([1, 3])));
  };

  it('gives the same value and gradients as the plain computation', () =>
    tf.tidy(() => {
      const x = tf.tensor1d([1, -2]);
      const w = tf.tensor1d([0.5, 4]);
      const plain = tf.grads(loss(false))([x, w]);
      const ours = tf.grads(loss(true))([x, w]);
      // d/dx Σ c·(2x·w)² = 8·c·x·w², d/dw = 8·c·x²·w
      expect(ours[0].arraySync()).toEqual([2, -768]);
      expect(ours[0].arraySync()).toEqual(plain[0].arraySync());
      expect(ours[1].arraySync()).toEqual(plain[1].arraySync());
      expect(loss(true)(x, w).arraySync()).toBe(loss(false)(x, w).arraySync());
    }));

  it('leaks no tensors and leaves the engine ready for the next step', () =>
    tf.tidy(() => {
      const x = tf.tensor1d([1, -2]);
      const w = tf.tensor1d([0.5, 4]);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 2; step++) {
        const { value, grads } = tf.valueAndGrads(loss(true))([x, w]);
        tf.dispose([value, ...grads]);
      }
      expect(tf.memory().numTensors).toBe(before);
    }));
});
