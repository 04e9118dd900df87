import * as tf from '@tensorflow/tfjs';
import { linearMerge, linearMergeGrad } from './linear-kernel';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('linear kernel', () => {
  let A: tf.Tensor3D;
  let B: tf.Tensor3D;
  beforeAll(() => {
    A = tf.tensor3d([[[1, 2], [3, 4]]]); // [1, in 2, d 2]
    B = tf.tensor3d([[[1, 0], [0, 1], [1, 1]]]); // [1, out 3, d 2]
  });

  it('merges A₀·B₀ᵀ (hand-checked)', () =>
    tf.tidy(() => {
      expect(linearMerge(A, B).arraySync()).toEqual([
        [1, 2, 3],
        [3, 4, 7],
      ]);
    }));

  it('has the gradient of tfjs autodiff', () =>
    tf.tidy(() => {
      const G = tf.tensor2d([[1, -1, 2], [0, 3, -2]]);
      const [gA, gB] = linearMergeGrad(A, B, G);
      const [rA, rB] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(tf.squeeze(a, [0]), tf.squeeze(b, [0]), false, true), G)),
      )([A, B]);
      expect(gA.arraySync()).toEqual(rA.arraySync());
      expect(gB.arraySync()).toEqual(rB.arraySync());
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const before = tf.memory().numTensors;
      linearMerge(A, B).dispose();
      const G = tf.ones([2, 3]) as tf.Tensor2D;
      linearMergeGrad(A, B, G).forEach((t) => t.dispose());
      G.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }));
});
