import * as tf from '@tensorflow/tfjs';
import { resolveSnellConfig } from './config';
import { mergeKernel } from './merge-kernel';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('mergeKernel', () => {
  const cfg = resolveSnellConfig({ rank: 4 });

  it('is differentiable with the closed-form gradient (hand-checked)', () =>
    tf.tidy(() => {
      // One entry, head 0: ‖(0,0) − (3,4)‖ = 5, gradient wrt a = 0.1·(a − b)/5 = (−0.06, −0.08).
      const A = tf.tensor3d([[[0, 0]], [[1, 1]]]);
      const B = tf.tensor3d([[[3, 4]], [[1, 2]]]);
      const [gA] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(mergeKernel(a as tf.Tensor3D, b as tf.Tensor3D, cfg)))([A, B]);
      const head0 = Array.from(gA.dataSync()).slice(0, 2);
      expect(head0[0]).toBeCloseTo(-0.06, 6);
      expect(head0[1]).toBeCloseTo(-0.08, 6);
    }));

  it('merges the linear kernel', () =>
    tf.tidy(() => {
      const linear = resolveSnellConfig({ kernel: 'linear', rank: 1 });
      expect(mergeKernel(tf.tensor3d([[[2], [3]]]), tf.tensor3d([[[5]]]), linear).arraySync()).toEqual([[10], [15]]);
    }));

  it('rejects A with the wrong number of heads', () =>
    tf.tidy(() => {
      expect(() => mergeKernel(tf.zeros([1, 3, 2]) as tf.Tensor3D, tf.zeros([2, 3, 2]) as tf.Tensor3D, cfg)).toThrow(
        'A passed to mergeKernel() must have shape [2, in, 2] (heads, in, rank/heads) but got [1, 3, 2]',
      );
    }));

  it('rejects B with the wrong head width', () =>
    tf.tidy(() => {
      expect(() => mergeKernel(tf.zeros([2, 3, 2]) as tf.Tensor3D, tf.zeros([2, 3, 4]) as tf.Tensor3D, cfg)).toThrow(
        'B passed to mergeKernel() must have shape [2, out, 2] (heads, out, rank/heads) but got [2, 3, 4]',
      );
    }));

  it('rejects a rank-2 factor', () =>
    tf.tidy(() => {
      const rank2: tf.Tensor = tf.zeros([3, 2]);
      expect(() => mergeKernel(rank2 as tf.Tensor3D, tf.zeros([2, 3, 2]) as tf.Tensor3D, cfg)).toThrow(
        'A passed to mergeKernel() must have shape [2, in, 2] (heads, in, rank/heads) but got [3, 2]',
      );
    }));

  it('leaks no tensors through forward and backward', () =>
    tf.tidy(() => {
      const A = tf.ones([2, 3, 2]) as tf.Tensor3D;
      const B = tf.zeros([2, 4, 2]) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(mergeKernel(a as tf.Tensor3D, b as tf.Tensor3D, cfg)))([A, B]);
      grads.forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
    }));
});
