import * as tf from '@tensorflow/tfjs';
import { availableBackends } from '@fedsnell/backends';
import { plainMatMul } from './matmul';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('plainMatMul', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('matches tf.matMul value and gradients (transposeA=%s, transposeB=%s)', (ta, tb) => {
    tf.engine().startScope();
    try {
      const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const b = tf.tensor2d([[1, -1], [2, 0.5], [-3, 2]]);
      const aa = ta ? a.transpose() : a;
      const bb = tb ? b.transpose() : b;
      const g = tf.tensor2d([[1, 2], [3, -1]]);
      const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), g));
      const ours = tf.grads(loss((x, y) => plainMatMul(x, y, ta, tb)))([aa, bb]);
      const ref = tf.grads(loss((x, y) => tf.matMul(x, y, ta, tb)))([aa, bb]);
      expect(plainMatMul(aa as tf.Tensor2D, bb as tf.Tensor2D, ta, tb).arraySync()).toEqual(tf.matMul(aa, bb, ta, tb).arraySync());
      expect(ours[0].arraySync()).toEqual(ref[0].arraySync());
      expect(ours[1].arraySync()).toEqual(ref[1].arraySync());
    } finally {
      tf.engine().endScope();
    }
  });

  it('supports batched rank-3 operands', () =>
    tf.tidy(() => {
      const a = tf.tensor3d([[[1, 2]], [[3, 4]]]);
      const b = tf.tensor3d([[[1], [1]], [[2], [0]]]);
      expect(plainMatMul(a, b).arraySync()).toEqual([[[3]], [[6]]]);
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const a = tf.tensor2d([[1, 2]]);
      const b = tf.tensor2d([[3], [4]]);
      const before = tf.memory().numTensors;
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(plainMatMul(x as tf.Tensor2D, y as tf.Tensor2D, false, false)))([a, b]);
      da.dispose();
      db.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }));

  it('rejects mixed ranks', () =>
    tf.tidy(() => {
      expect(() => plainMatMul(tf.zeros([2, 2]) as tf.Tensor2D, tf.zeros([1, 2, 2]) as unknown as tf.Tensor2D)).toThrow(
        'plainMatMul() needs two rank-2 or two rank-3 tensors but got ranks 2 and 3',
      );
    }));
});

it('availableBackends lists wasm', async () => {
  expect(await availableBackends()).toContain('wasm');
});
