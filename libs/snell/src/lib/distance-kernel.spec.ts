import * as tf from '@tensorflow/tfjs';
import { numericGrad } from '../testing/finite-difference';
import { relError } from '../testing/golden';
import { merge64 } from '../testing/reference64';
import { resolveSnellConfig } from './config';
import { directDistances, distanceMerge, distanceMergeGrad, distanceMergeWithGrad } from './distance-kernel';
import { createRng } from './rng';
import { describeOnBackends } from '@fedsnell/backends/testing';

const random = (shape: [number, number, number], seed: number, spread = 1) => {
  const rng = createRng(seed);
  return tf.tensor3d(Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => (rng() - 0.5) * spread), shape);
};

describeOnBackends('distance kernel', () => {
  // Head 0: ‖(0,0) − (3,4)‖ = 5, head 1: ‖(1,1) − (1,2)‖ = 1.
  let A: tf.Tensor3D;
  let B: tf.Tensor3D;
  beforeAll(() => {
    A = tf.tensor3d([[[0, 0]], [[1, 1]]]);
    B = tf.tensor3d([[[3, 4]], [[1, 2]]]);
  });

  it('merges Σ_h c_h ‖a − b‖₂ (hand-checked: 0.1·5 − 0.1·1)', () =>
    tf.tidy(() => {
      expect(distanceMerge(A, B, resolveSnellConfig({ rank: 4 })).dataSync()[0]).toBeCloseTo(0.4, 6);
    }));

  it('merges Σ_h c_h ‖a − b‖₁ (hand-checked: 0.1·7 − 0.1·1)', () =>
    tf.tidy(() => {
      expect(distanceMerge(A, B, resolveSnellConfig({ rank: 4, p: 1 })).dataSync()[0]).toBeCloseTo(0.6, 6);
    }));

  it('has orientation [in, out]', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4 });
      expect(distanceMerge(random([2, 3, 2], 1), random([2, 5, 2], 2), cfg).shape).toEqual([3, 5]);
    }));

  it('agrees with the direct form', () =>
    tf.tidy(() => {
      const [a, b] = [random([2, 6, 3], 3), random([2, 7, 3], 4)];
      const cfg = resolveSnellConfig({ rank: 6 });
      expect(relError(distanceMerge(a, b, cfg).dataSync(), distanceMerge(a, b, cfg, true).dataSync())).toBeLessThan(1e-6);
    }));

  it('chunks the direct form without changing it', () =>
    tf.tidy(() => {
      const [a, b] = [random([2, 5, 2], 5), random([2, 3, 2], 6)];
      expect(directDistances(a, b, 2, 12).dataSync()).toEqual(directDistances(a, b, 2).dataSync());
    }));

  it('stays accurate in the direct form when rows nearly coincide far from the origin', () =>
    tf.tidy(() => {
      const a = random([2, 4, 2], 7, 200);
      const b = tf.add(a, random([2, 4, 2], 8, 1e-3)) as tf.Tensor3D;
      const cfg = resolveSnellConfig({ rank: 4, sparsity: 0 });
      const expected = merge64(a.dataSync(), b.dataSync(), 4, 4, cfg);
      expect(relError(distanceMerge(a, b, cfg, true).dataSync(), expected)).toBeLessThan(1e-6);
    }));

  it.each([1, 2] as const)('has the closed-form gradient of finite differences (p = %s)', (p) =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4, p });
      const [a, b] = [random([2, 3, 2], 9, 2), random([2, 4, 2], 10, 2)];
      const G = tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 2), [3, 4]);
      const [gA, gB] = distanceMergeGrad(a, b, G, cfg);
      const fA = numericGrad((t) => tf.sum(tf.mul(distanceMerge(t as tf.Tensor3D, b, cfg), G)), a, 1e-3);
      const fB = numericGrad((t) => tf.sum(tf.mul(distanceMerge(a, t as tf.Tensor3D, cfg), G)), b, 1e-3);
      expect(relError(gA.dataSync(), fA)).toBeLessThan(2e-2);
      expect(relError(gB.dataSync(), fB)).toBeLessThan(2e-2);
    }));

  // The p = 2 path stacks heads into block-diagonal 2-D products; 1 and 3 heads check the layout.
  it.each([1, 3])('agrees with the direct form and finite differences with %s head(s)', (heads) =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 2 * heads, heads });
      const [a, b] = [random([heads, 3, 2], 13, 2), random([heads, 4, 2], 14, 2)];
      expect(relError(distanceMerge(a, b, cfg).dataSync(), distanceMerge(a, b, cfg, true).dataSync())).toBeLessThan(1e-6);
      const G = tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 2), [3, 4]);
      const [gA, gB] = distanceMergeGrad(a, b, G, cfg);
      const fA = numericGrad((t) => tf.sum(tf.mul(distanceMerge(t as tf.Tensor3D, b, cfg), G)), a, 1e-3);
      const fB = numericGrad((t) => tf.sum(tf.mul(distanceMerge(a, t as tf.Tensor3D, cfg), G)), b, 1e-3);
      expect(relError(gA.dataSync(), fA)).toBeLessThan(2e-2);
      expect(relError(gB.dataSync(), fB)).toBeLessThan(2e-2);
    }));

  it('shares the distances between ΔW and its gradient without changing either', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4 });
      const [a, b] = [random([2, 5, 2], 15), random([2, 3, 2], 16)];
      const G = tf.tensor2d(Float32Array.from({ length: 15 }, (_, i) => (i % 4) - 1.5), [5, 3]);
      const { deltaW, grad } = distanceMergeWithGrad(a, b, cfg);
      const [gA, gB] = grad(G);
      const [rA, rB] = distanceMergeGrad(a, b, G, cfg);
      expect(deltaW.dataSync()).toEqual(distanceMerge(a, b, cfg).dataSync());
      expect(gA.dataSync()).toEqual(rA.dataSync());
      expect(gB.dataSync()).toEqual(rB.dataSync());
    }));

  it('chunks the p = 1 gradient without changing it', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4, p: 1 });
      const [a, b] = [random([2, 5, 2], 11), random([2, 3, 2], 12)];
      const G = tf.ones([5, 3]) as tf.Tensor2D;
      const whole = distanceMergeGrad(a, b, G, cfg);
      const chunked = distanceMergeGrad(a, b, G, cfg, 12);
      expect(chunked[0].dataSync()).toEqual(whole[0].dataSync());
      expect(relError(chunked[1].dataSync(), whole[1].dataSync())).toBeLessThan(1e-6);
    }));

  it('gives zero gradient where a distance is zero (not NaN)', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 2 });
      const a = tf.tensor3d([[[1]], [[0]]]);
      const b = tf.tensor3d([[[1]], [[2]]]);
      const [gA, gB] = distanceMergeGrad(a, b, tf.ones([1, 1]) as tf.Tensor2D, cfg);
      // Head 0 coincides (gradient 0); head 1: c = −0.1, d/da |a − b| = −1 ⇒ +0.1.
      expect(Array.from(gA.dataSync())).toEqual([0, expect.closeTo(0.1, 6)]);
      expect(Array.from(gB.dataSync())).toEqual([0, expect.closeTo(-0.1, 6)]);
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4 });
      const G = tf.ones([1, 1]) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      distanceMerge(A, B, cfg).dispose();
      distanceMerge(A, B, resolveSnellConfig({ rank: 4, p: 1 })).dispose();
      for (const p of [1, 2] as const) distanceMergeGrad(A, B, G, resolveSnellConfig({ rank: 4, p }), 2).forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
    }));
});
