import { sampleDirichlet, sampleLogGamma } from './gamma';
import { mulberry32 } from './rng';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('sampleLogGamma', () => {
  it.each([0.3, 1, 4])('has mean ≈ shape for shape %s', (shape) => {
    const rng = mulberry32(1);
    const xs = Array.from({ length: 20000 }, () => Math.exp(sampleLogGamma(shape, rng)));
    expect(mean(xs)).toBeCloseTo(shape, 1);
  });

  it('has variance ≈ shape', () => {
    const rng = mulberry32(2);
    const xs = Array.from({ length: 20000 }, () => Math.exp(sampleLogGamma(4, rng)));
    const m = mean(xs);
    expect(mean(xs.map((x) => (x - m) ** 2))).toBeGreaterThan(3.6);
    expect(mean(xs.map((x) => (x - m) ** 2))).toBeLessThan(4.4);
  });

  it('stays finite for tiny shapes', () => {
    const rng = mulberry32(3);
    expect(Array.from({ length: 100 }, () => sampleLogGamma(0.001, rng)).every(Number.isFinite)).toBe(true);
  });

  it('rejects a zero shape', () => {
    expect(() => sampleLogGamma(0, mulberry32(1))).toThrow('shape passed to sampleLogGamma() must be a positive finite number but got 0');
  });
});

describe('sampleDirichlet', () => {
  it('sums to 1', () => {
    const p = sampleDirichlet(0.5, 5, mulberry32(4));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('stays a distribution for α = 0.001', () => {
    const p = sampleDirichlet(0.001, 4, mulberry32(5));
    expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...p)).toBeGreaterThan(0.99);
  });
});
