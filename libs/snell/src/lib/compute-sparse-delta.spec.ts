import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '@fedsnell/tensor-io';
import { relError } from '../testing/golden';
import { reference64 } from '../testing/reference64';
import { resolveSnellConfig, type SnellConfig } from './config';
import { computeSparseDelta, merge64, merge64General, SparseDeltaBuffers } from './compute-sparse-delta';
import { computeSparseDeltaTf } from './compute-sparse-delta-tf';
import { initSnellFactors } from './init';
import { absKeyHistogram, absQuantile64 } from './quantile';
import { createRng } from './rng';
import { sparseDelta } from './adapter';
import { describeOnBackends } from '@fedsnell/backends/testing';

const named = (shape: number[], data: number[]): NamedTensor => ({ shape, data: Float32Array.from(data) });

describe('computeSparseDelta', () => {
  it('merges and keeps survivors as ΔW·|ΔW| (hand-checked)', () => {
    // One head of width 1, scale 1: ΔW[i, j] = |a_i − b_j| = [[1, 2], [2, 1]]; s = 0.5 ⇒ τ = 1.5.
    const cfg = resolveSnellConfig({ heads: 1, rank: 1, scale: 1, sparsity: 0.5 });
    const res = computeSparseDelta(named([1, 2, 1], [0, 3]), named([1, 2, 1], [1, 2]), cfg);
    expect(Array.from(res.delta)).toEqual([0, 4, 4, 0]);
    expect(res).toMatchObject({ shape: [2, 2], tau: 1.5, kept: 2 });
  });

  it('returns ΔW itself at sparsity 0', () => {
    const cfg = resolveSnellConfig({ heads: 1, rank: 1, scale: 1, sparsity: 0 });
    const res = computeSparseDelta(named([1, 1, 1], [0]), named([1, 2, 1], [1, -2]), cfg);
    expect(Array.from(res.delta)).toEqual([1, 2]);
    expect(res).toMatchObject({ tau: 0, kept: 2 });
  });

  it('merges rank/heads = 4 at p = 2 (the unrolled loop) bit for bit as the general loop', () => {
    const cfg = resolveSnellConfig({ rank: 8, heads: 2, sparsity: 0.9 });
    const { A, B } = initSnellFactors(24, 40, cfg, createRng(5));
    B.data.forEach((v, i) => (B.data[i] = v + 0.01 * Math.sin(i)));

    const fast = merge64(A, B, cfg);
    const general = merge64General(A, B, cfg);

    expect(fast.some((v) => v !== 0)).toBe(true);
    expect(Array.from(fast)).toEqual(Array.from(general));
  });

  it('merges four heads of width 4 bit for bit as the general loop', () => {
    const cfg = resolveSnellConfig({ rank: 16, heads: 4, sparsity: 0.9 });
    const { A, B } = initSnellFactors(12, 20, cfg, createRng(6));
    B.data.forEach((v, i) => (B.data[i] = v + 0.01 * Math.cos(i)));

    expect(Array.from(merge64(A, B, cfg))).toEqual(Array.from(merge64General(A, B, cfg)));
  });

  it.each([
    ['two heads', { rank: 8, heads: 2 }],
    ['four heads', { rank: 16, heads: 4 }],
    ['p = 1', { rank: 4, p: 1 as const }],
  ])('counts, while merging, the histogram absQuantile64 would count (%s)', (_name, partial) => {
    const cfg = resolveSnellConfig({ ...partial, sparsity: 0.9 });
    const { A, B } = initSnellFactors(16, 24, cfg, createRng(8));
    const histogram = absKeyHistogram();

    const W = merge64(A, B, cfg, histogram);

    expect(histogram.reduce((a, b) => a + b, 0)).toBe(W.length);
    for (const q of [0, 0.5, 0.9, 1]) expect(absQuantile64(W, q, histogram)).toBe(absQuantile64(W, q));
  });

  it.each([
    ['hard s=0.9', { rank: 8, sparsity: 0.9 }],
    ['soft s=0.5', { rank: 8, sparsity: 0.5, threshold: 'soft' as const }],
    ['dense', { rank: 8, sparsity: 0 }],
    ['four heads', { rank: 16, heads: 4, sparsity: 0.7 }],
  ])('gives the same result in reused buffers, module after module (%s)', (_name, partial) => {
    const cfg = resolveSnellConfig(partial);
    const rng = createRng(12);
    const modules = [initSnellFactors(20, 30, cfg, rng), initSnellFactors(8, 12, cfg, rng), initSnellFactors(20, 30, cfg, rng)];
    const buffers = new SparseDeltaBuffers();

    for (const { A, B } of modules) {
      const fresh = computeSparseDelta(A, B, cfg);
      const reused = computeSparseDelta(A, B, cfg, buffers);

      expect(reused.delta).toEqual(fresh.delta);
      expect({ ...reused, delta: null }).toEqual({ ...fresh, delta: null });
    }
  });

  const variants: [string, Partial<SnellConfig>][] = [
    ['distance p=2 s=0.9', { rank: 8, sparsity: 0.9 }],
    ['distance p=2 s=0', { rank: 8, sparsity: 0 }],
    ['distance p=1 s=0.5', { rank: 4, p: 1, sparsity: 0.5 }],
    ['linear s=0.7', { kernel: 'linear', rank: 4, sparsity: 0.7 }],
  ];

  it.each(variants)('is the float64 reference rounded once (%s)', (_name, partial) => {
    const cfg = resolveSnellConfig(partial);
    const { A, B } = initSnellFactors(20, 30, cfg, createRng(21));
    const ref = reference64(A.data, B.data, 20, 30, { ...cfg });
    const res = computeSparseDelta(A, B, cfg);
    expect(res.kept).toBe(ref.kept);
    expect(res.tau).toBe(ref.tau);
    expect(res.delta).toEqual(Float32Array.from(ref.sparse));
  });

  it('stays exact when factor rows nearly coincide', () => {
    const cfg = resolveSnellConfig({ heads: 2, rank: 4, sparsity: 0.5 });
    const rng = createRng(22);
    const A = Array.from({ length: 2 * 6 * 2 }, () => (rng() - 0.5) * 100);
    const B = A.map((v) => v + (rng() - 0.5) * 1e-4);
    const ref = reference64(Float32Array.from(A), Float32Array.from(B), 6, 6, cfg);
    const res = computeSparseDelta(named([2, 6, 2], A), named([2, 6, 2], B), cfg);
    expect(res.kept).toBe(ref.kept);
    expect(res.delta).toEqual(Float32Array.from(ref.sparse));
  });

  it('rejects a factor with the wrong shape', () => {
    const cfg = resolveSnellConfig({ rank: 4 });
    expect(() => computeSparseDelta(named([2, 3, 4], new Array(24).fill(0)), named([2, 3, 2], new Array(12).fill(0)), cfg)).toThrow(
      'A passed to computeSparseDelta() must have shape [2, in, 2] (heads, in, rank/heads) but got [2, 3, 4] with 24 values',
    );
  });

  it('rejects data that does not fill the shape', () => {
    const cfg = resolveSnellConfig({ rank: 4 });
    expect(() => computeSparseDelta(named([2, 3, 2], [1]), named([2, 3, 2], new Array(12).fill(0)), cfg)).toThrow(
      'A passed to computeSparseDelta() must have shape [2, in, 2] (heads, in, rank/heads) but got [2, 3, 2] with 1 values',
    );
  });

  it('rejects non-finite factors', () => {
    const cfg = resolveSnellConfig({ rank: 4 });
    const B = new Array(12).fill(0);
    B[5] = Infinity;
    expect(() => computeSparseDelta(named([2, 3, 2], new Array(12).fill(0)), named([2, 3, 2], B), cfg)).toThrow(
      'B passed to computeSparseDelta() must be finite but has Infinity at index 5',
    );
  });
});

// The float32 training path against the float64 one on random adapters at initialisation scale:
// the matrix-relative error measured here (≈1e-7 to 1e-6) is what README/report quote.
describeOnBackends('sparseDelta (float32) vs computeSparseDelta', () => {
  it.each([1, 2, 3])('agrees to 1e-5 of the largest entry (seed %s)', (seed) => {
    const cfg = resolveSnellConfig({ rank: 8, sparsity: 0.9 });
    const { A, B } = initSnellFactors(48, 64, cfg, createRng(seed));
    const exact = computeSparseDelta(A, B, cfg);
    const S = tf.tidy(() =>
      sparseDelta(tf.tensor3d(A.data, [2, 48, 4]), tf.tensor3d(B.data, [2, 64, 4]), cfg).dataSync(),
    );
    expect(relError(S, exact.delta)).toBeLessThan(1e-5);
  });
});

describeOnBackends('computeSparseDeltaTf', () => {
  it('agrees with the float64 result', async () => {
    const cfg = resolveSnellConfig({ rank: 8, sparsity: 0.9 });
    const { A, B } = initSnellFactors(24, 40, cfg, createRng(31));
    const exact = computeSparseDelta(A, B, cfg);
    const res = await computeSparseDeltaTf(A, B, cfg);
    expect(res.kept).toBe(exact.kept);
    expect(Math.abs(res.tau - exact.tau)).toBeLessThan(1e-6 * exact.tau);
    expect(relError(res.delta, exact.delta)).toBeLessThan(1e-6);
  });

  it('leaks no tensors', async () => {
    const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.5 });
    const { A, B } = initSnellFactors(4, 4, cfg, createRng(32));
    const before = tf.memory().numTensors;
    await computeSparseDeltaTf(A, B, cfg);
    expect(tf.memory().numTensors).toBe(before);
  });
});
