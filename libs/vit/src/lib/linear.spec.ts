import * as tf from '@tensorflow/tfjs';
import { frozenLinear, maskGradient, trainableLinear } from './linear';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('linear paths', () => {
  // W [out 2, in 3]
  const w = [[1, 0, 2], [0, -1, 1]];

  it('frozenLinear computes x·Wᵀ + b from the stored Wᵀ', () =>
    tf.tidy(() => {
      const y = frozenLinear(tf.tensor2d([[1, 2, 3]]), tf.tensor2d(w).transpose(), tf.tensor1d([10, 20]));
      expect(y.arraySync()).toEqual([[17, 21]]);
    }));

  it('frozenLinear passes dX = dY·W', () =>
    tf.tidy(() => {
      const wt = tf.tensor2d(w).transpose() as tf.Tensor2D;
      const [dx] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(frozenLinear(x as tf.Tensor2D, wt, null), tf.tensor2d([[1, 2]]))))([
        tf.tensor2d([[1, 2, 3]]),
      ]);
      expect(dx.arraySync()).toEqual([[1, -2, 4]]);
    }));

  it('trainableLinear gives dW = dYᵀ·x', () =>
    tf.tidy(() => {
      const [dw] = tf.grads((wv: tf.Tensor) => tf.sum(tf.mul(trainableLinear(tf.tensor2d([[1, 2, 3]]), wv as tf.Tensor2D, null), tf.tensor2d([[1, 2]]))))([
        tf.tensor2d(w),
      ]);
      expect(dw.arraySync()).toEqual([[1, 2, 3], [2, 4, 6]]);
    }));

  it('maskGradient zeroes masked-out gradient entries only', () =>
    tf.tidy(() => {
      const mask = tf.tensor1d([1, 0, 1]);
      const [g] = tf.grads((v: tf.Tensor) => tf.sum(tf.mul(maskGradient(v, mask), tf.tensor1d([2, 3, 4]))))([tf.tensor1d([5, 6, 7])]);
      expect(g.arraySync()).toEqual([2, 0, 4]);
    }));

  it('frozenLinear leaks no tensors over forward and backward', () =>
    tf.tidy(() => {
      const wt = tf.tensor2d([[1], [2]]);
      const b = tf.tensor1d([1]);
      const x = tf.tensor2d([[3, 4]]);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(frozenLinear(t as tf.Tensor2D, wt, b)))([x]);
      tf.dispose([value, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
    }));
});
