import { resolveSnellConfig } from './config';
import { initSnellFactors } from './init';
import { createRng } from './rng';

const maxAbs = (xs: Float32Array) => xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe('initSnellFactors', () => {
  const cfg = resolveSnellConfig({ heads: 2, rank: 8 });

  it('shapes A [H, in, d] and B [H, out, d]', () => {
    const { A, B } = initSnellFactors(16, 64, cfg, createRng(0));
    expect(A.shape).toEqual([2, 16, 4]);
    expect(B.shape).toEqual([2, 64, 4]);
    expect(A.data.length).toBe(128);
  });

  it('bounds A by 1/√(in·d) and B by 1/√(out·d), using most of the range', () => {
    const { A, B } = initSnellFactors(16, 64, cfg, createRng(0));
    expect(maxAbs(A.data)).toBeLessThanOrEqual(1 / 8);
    expect(maxAbs(A.data)).toBeGreaterThan(0.9 / 8);
    expect(maxAbs(B.data)).toBeLessThanOrEqual(1 / 16);
    expect(maxAbs(B.data)).toBeGreaterThan(0.9 / 16);
  });

  it('multiplies both factors by initScale, from the same draws', () => {
    const base = initSnellFactors(4, 6, cfg, createRng(5));
    const scaled = initSnellFactors(4, 6, cfg, createRng(5), 4);
    expect(Array.from(scaled.A.data)).toEqual(Array.from(base.A.data, (v) => Math.fround(v * 4)));
    expect(Array.from(scaled.B.data)).toEqual(Array.from(base.B.data, (v) => Math.fround(v * 4)));
  });

  it('is bit-identical to the reference with initScale 1', () => {
    expect(initSnellFactors(4, 6, cfg, createRng(5), 1).A.data).toEqual(initSnellFactors(4, 6, cfg, createRng(5)).A.data);
  });

  it('rejects a non-positive initScale', () => {
    expect(() => initSnellFactors(4, 4, cfg, createRng(0), 0)).toThrow('initScale passed to initSnellFactors() must be a finite number > 0 but got 0');
  });

  it('is reproducible from the seed', () => {
    expect(initSnellFactors(4, 4, cfg, createRng(3)).A.data).toEqual(initSnellFactors(4, 4, cfg, createRng(3)).A.data);
  });

  it('rejects a bad size', () => {
    expect(() => initSnellFactors(0, 4, cfg, createRng(0))).toThrow(
      'inFeatures passed to initSnellFactors() must be a positive integer but got 0',
    );
  });
});
