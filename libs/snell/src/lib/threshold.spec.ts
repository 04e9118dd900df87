import { competitionThreshold, floorToFloat32 } from './threshold';

describe('floorToFloat32', () => {
  it('keeps float32 numbers', () => {
    expect(floorToFloat32(0.5)).toBe(0.5);
  });

  it('rounds down where fround rounds up', () => {
    const x = 0.1; // fround(0.1) > 0.1
    expect(Math.fround(x)).toBeGreaterThan(x);
    expect(floorToFloat32(x)).toBeLessThan(x);
    expect(Math.fround(floorToFloat32(x))).toBe(floorToFloat32(x));
  });

  it('is the closest float32 below', () => {
    const x = 1 + 2 ** -30; // between 1 and the next float32 (1 + 2^-23)
    expect(floorToFloat32(x)).toBe(1);
  });
});

describe('competitionThreshold', () => {
  it('computes τ and kept (hand-checked)', () => {
    const { tau, kept } = competitionThreshold(new Float32Array([1, -2, 3, -4]), 0.5);
    expect(tau).toBe(2.5);
    expect(kept).toBe(2);
  });

  it('keeps strictly greater entries only', () => {
    expect(competitionThreshold(new Float32Array([1, 1, 1, 2]), 0.5).kept).toBe(1);
  });

  it('gives a float32 cut equivalent to τ', () => {
    // τ between two adjacent float32 numbers: a naive float32 τ would round up and drop v[hi].
    const lo = 1;
    const hi = Math.fround(1 + 2 ** -23);
    const { tau, cut, kept } = competitionThreshold(new Float32Array([lo, hi]), 0.75);
    expect(Math.fround(tau)).toBe(hi);
    expect(cut).toBe(lo);
    expect(kept).toBe(1);
  });
});

describe('competitionThreshold kept', () => {
  it.each([
    ['ties at τ', [1, 2, 2, 2, 3], 0.5],
    ['τ on an order statistic', [4, 1, 3, 2, 5], 0.5],
    ['q = 0', [3, 1, 2], 0],
    ['all equal', [2, 2, 2, 2], 0.3],
    ['interpolated', [5, -1, 4, 2, -3, 0], 0.7],
  ])('counts |ΔW| > τ exactly (%s)', (_name, values, q) => {
    const v = Float32Array.from(values);
    const { tau, kept } = competitionThreshold(v, q);
    expect(kept).toBe(values.filter((x) => Math.abs(x) > tau).length);
  });
});
