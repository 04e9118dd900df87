import * as tf from '@tensorflow/tfjs';
import { availableBackends, useBackend } from '@fedsnell/backends';
import { flat, loadGoldens, relError, type Golden } from '../testing/golden';
import { grads64, reference64 } from '../testing/reference64';
import { resolveSnellConfig } from './config';
import { mergeKernel } from './merge-kernel';
import { sparsify } from './sparsify';
import { snellMatMul, snellThreshold, sparseDelta } from './adapter';
import { computeSparseDelta } from './compute-sparse-delta';
import { describeOnBackends } from '@fedsnell/backends/testing';

const goldens = loadGoldens();
const cfgOf = (g: Golden) => resolveSnellConfig({ heads: g.heads, rank: g.rank, p: g.p, scale: g.scale, sparsity: g.sparsity });
const rows = (g: Golden) => flat(g.x).length / g.in;
const inputs = (g: Golden) => ({
  A: tf.tensor3d(flat(g.A), [g.heads, g.in, g.rank / g.heads]),
  B: tf.tensor3d(flat(g.B), [g.heads, g.out, g.rank / g.heads]),
  x: tf.tensor2d(flat(g.x), [rows(g), g.in]),
  G: tf.tensor2d(flat(g.G), [rows(g), g.out]),
});
/** The golden gradients, or (files without them) the float64 transcription's. */
const expectedGrads = (g: Golden) =>
  g.gradA && g.gradB
    ? { gradA: flat(g.gradA), gradB: flat(g.gradB) }
    : grads64(flat(g.A), flat(g.B), flat(g.x), flat(g.G), g.in, g.out, cfgOf(g));
const lossOf = (G: tf.Tensor2D, f: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor2D) => (a: tf.Tensor, b: tf.Tensor) =>
  tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D), G));

it('finds the golden vectors, sparse and dense', () => {
  expect(goldens.length).toBeGreaterThanOrEqual(3);
  expect(goldens.some((g) => g.sparsity === 0)).toBe(true);
});

describe.each(goldens.map((g) => [g.name, g] as const))('float64 transcription on %s', (_name, g) => {
  it('reproduces τ, kept, S and the gradients', () => {
    const ref = reference64(flat(g.A), flat(g.B), g.in, g.out, cfgOf(g));
    expect(ref.kept).toBe(g.kept);
    expect(ref.tau).toBeCloseTo(g.tau, 14);
    expect(relError(ref.sparse, flat(g.sparseDeltaW))).toBeLessThan(1e-12);
    if (g.gradA) expect(relError(expectedGrads({ ...g, gradA: undefined }).gradA, flat(g.gradA))).toBeLessThan(1e-12);
  });
});

describeOnBackends('golden vectors', () => {
  describe.each(goldens.map((g) => [g.name, g] as const))('%s', (_name, g) => {
    const cfg = cfgOf(g);

    it('merges ΔW', () =>
      tf.tidy(() => {
        const { A, B } = inputs(g);
        expect(relError(mergeKernel(A, B, cfg).dataSync(), flat(g.deltaW))).toBeLessThan(1e-5);
      }));

    it('sparsifies with the reference τ and kept', () =>
      tf.tidy(() => {
        const { A, B } = inputs(g);
        const { sparse, tau, kept } = sparsify(mergeKernel(A, B, cfg), cfg);
        expect(kept).toBe(g.kept);
        expect(Math.abs(tau - g.tau)).toBeLessThanOrEqual(1e-5 * g.tau);
        expect(relError(sparse.dataSync(), flat(g.sparseDeltaW))).toBeLessThan(1e-4);
      }));

    it('snellMatMul gives y', () =>
      tf.tidy(() => {
        const { A, B, x } = inputs(g);
        expect(relError(snellMatMul(x, A, B, cfg).dataSync(), flat(g.y))).toBeLessThan(1e-4);
      }));

    it('snellMatMul gives gradA and gradB', () =>
      tf.tidy(() => {
        const { A, B, x, G } = inputs(g);
        const [gA, gB] = tf.grads(lossOf(G, (a, b) => snellMatMul(x, a, b, cfg)))([A, B]);
        const { gradA, gradB } = expectedGrads(g);
        expect(relError(gA.dataSync(), gradA)).toBeLessThan(1e-4);
        expect(relError(gB.dataSync(), gradB)).toBeLessThan(1e-4);
      }));

    it('sparseDelta gives gradA and gradB', () =>
      tf.tidy(() => {
        const { A, B, x, G } = inputs(g);
        const [gA, gB] = tf.grads(lossOf(G, (a, b) => tf.matMul(x, sparseDelta(a, b, cfg))))([A, B]);
        const { gradA, gradB } = expectedGrads(g);
        expect(relError(gA.dataSync(), gradA)).toBeLessThan(1e-4);
        expect(relError(gB.dataSync(), gradB)).toBeLessThan(1e-4);
      }));
  });
});

describe.each(goldens.map((g) => [g.name, g] as const))('computeSparseDelta on %s', (_name, g) => {
  it('gives S, τ and kept', () =>
    tf.tidy(() => {
      const d = g.rank / g.heads;
      const res = computeSparseDelta(
        { shape: [g.heads, g.in, d], data: Float32Array.from(flat(g.A)) },
        { shape: [g.heads, g.out, d], data: Float32Array.from(flat(g.B)) },
        cfgOf(g),
      );
      expect(res.shape).toEqual([g.in, g.out]);
      expect(res.kept).toBe(g.kept);
      expect(res.tau).toBeCloseTo(g.tau, 12);
      expect(relError(res.delta, flat(g.sparseDeltaW))).toBeLessThan(1e-6);
    }));
});

describe('golden vectors on webgpu', () => {
  const g = goldens.find((v) => v.sparsity > 0 && v.in * v.out <= 1000) ?? goldens[0];
  const cfg = cfgOf(g);

  beforeAll(async () => {
    expect(await availableBackends()).toContain('webgpu');
    await useBackend('webgpu');
  });

  afterAll(async () => {
    await useBackend('cpu');
  });

  it(`reproduces kept, y and gradients of ${g.name}`, async () => {
    const { A, B, x, G } = inputs(g);
    const threshold = await snellThreshold(A, B, cfg);
    const y = snellMatMul(x, A, B, cfg, threshold);
    const [gA, gB] = tf.grads(lossOf(G, (a, b) => snellMatMul(x, a, b, cfg, threshold)))([A, B]);
    const { gradA, gradB } = expectedGrads(g);
    expect(threshold.kept).toBe(g.kept);
    expect(relError(await y.data(), flat(g.y))).toBeLessThan(1e-4);
    expect(relError(await gA.data(), gradA)).toBeLessThan(1e-4);
    expect(relError(await gB.data(), gradB)).toBeLessThan(1e-4);
  });

  it('says how to avoid the synchronous read that WebGPU in Node cannot do', () =>
    tf.tidy(() => {
      const { A, B, x } = inputs(g);
      expect(() => snellMatMul(x, A, B, cfg)).toThrow('pass a threshold from await snellThreshold(A, B, cfg)');
    }));
});
