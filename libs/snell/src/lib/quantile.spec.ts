import { absQuantile, absQuantile64, exactQuantile } from './quantile';
import { createRng } from './rng';

/** The reference: sort, then linear interpolation, in float64. */
function sortQuantile(values: Float32Array, q: number): number {
  const v = Float64Array.from(values).sort();
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

function randomValues(rng: () => number, n: number, kind: 'normal' | 'ties' | 'zeros' | 'wide'): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng() - 0.5;
    if (kind === 'ties') out[i] = Math.round(u * 8);
    else if (kind === 'zeros') out[i] = rng() < 0.7 ? (rng() < 0.5 ? -0 : 0) : u;
    else if (kind === 'wide') out[i] = u * 10 ** Math.floor(rng() * 60 - 30);
    else out[i] = u;
  }
  return out;
}

describe('exactQuantile', () => {
  it('interpolates linearly (hand-checked)', () => {
    expect(exactQuantile(new Float32Array([4, 1, 3, 2]), 0.5)).toBe(2.5);
  });

  it('returns the single value for N = 1', () => {
    expect(exactQuantile(new Float32Array([-3]), 0.7)).toBe(-3);
  });

  it('returns the minimum for q = 0 and the maximum for q = 1', () => {
    const v = new Float32Array([2, -5, 9, 0]);
    expect(exactQuantile(v, 0)).toBe(-5);
    expect(exactQuantile(v, 1)).toBe(9);
  });

  it('handles negative values and ±0', () => {
    expect(exactQuantile(new Float32Array([-0, 0, -1, -2]), 0.5)).toBe(-0.5);
  });

  it.each(['normal', 'ties', 'zeros', 'wide'] as const)('matches a full sort on random %s data', (kind) => {
    const rng = createRng(11);
    for (const n of [1, 2, 3, 17, 1000, 50000]) {
      const v = randomValues(rng, n, kind);
      for (const q of [0, 0.1, 0.5, 0.7, 0.9, 0.995, 1, rng()]) expect(exactQuantile(v, q)).toBe(sortQuantile(v, q));
    }
  });

  it('rejects NaN', () => {
    expect(() => exactQuantile(new Float32Array([1, NaN]), 0.5)).toThrow(
      'values passed to exactQuantile() must not contain NaN but got NaN at index 1',
    );
  });

  it('rejects an empty array', () => {
    expect(() => exactQuantile(new Float32Array(0), 0.5)).toThrow('values passed to exactQuantile() must not be empty but got length 0');
  });

  it('rejects q outside [0, 1]', () => {
    expect(() => exactQuantile(new Float32Array([1]), 1.5)).toThrow('q passed to exactQuantile() must be in [0, 1] but got 1.5');
  });

  it('leaves the input unchanged', () => {
    const v = new Float32Array([3, 1, 2]);
    exactQuantile(v, 0.5);
    expect(Array.from(v)).toEqual([3, 1, 2]);
  });
});

describe('absQuantile', () => {
  it('takes the quantile of |values| (hand-checked)', () => {
    expect(absQuantile(new Float32Array([-4, 1, -3, 2]), 0.5)).toBe(2.5);
  });

  it.each(['normal', 'ties', 'zeros', 'wide'] as const)('matches a full sort of |x| on random %s data', (kind) => {
    const rng = createRng(5);
    for (const n of [1, 2, 5, 999, 40000]) {
      const v = randomValues(rng, n, kind);
      const abs = v.map(Math.abs);
      for (const q of [0, 0.3, 0.9, 0.99, 1, rng()]) expect(absQuantile(v, q)).toBe(sortQuantile(abs, q));
    }
  });

  it('works on a subarray view', () => {
    const base = new Float32Array([100, -1, 2, -3, 100]);
    expect(absQuantile(base.subarray(1, 4), 1)).toBe(3);
  });

  it('rejects NaN', () => {
    expect(() => absQuantile(new Float32Array([NaN]), 0)).toThrow('values passed to absQuantile() must not contain NaN but got NaN at index 0');
  });
});

describe('absQuantile64', () => {
  it('resolves float64 values that round to the same float32', () => {
    const v = new Float64Array([1 + 1e-12, -(1 + 3e-12), 1 + 2e-12, 0.5]);
    // |v| sorted: 0.5, 1+1e-12, 1+2e-12, 1+3e-12; q = 0.5 ⇒ pos 1.5.
    expect(absQuantile64(v, 0.5)).toBe(1 + 1e-12 + 0.5 * (1 + 2e-12 - (1 + 1e-12)));
  });

  it('interpolates between order statistics in different radix buckets', () => {
    // |v| sorted: 1, 4 (binades apart); q = 0.25 ⇒ pos 0.25 between them.
    expect(absQuantile64(new Float64Array([-4, 1]), 0.25)).toBe(1.75);
  });

  it('matches a full sort on float64 data spread over many binades', () => {
    const rng = createRng(10);
    const v = Float64Array.from({ length: 20000 }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 40 - 20));
    const abs = Float64Array.from(v, Math.abs).sort();
    for (const q of [0, 0.1, 0.9, 0.999, 1]) {
      const pos = q * (v.length - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(lo + 1, v.length - 1);
      expect(absQuantile64(v, q)).toBe(abs[lo] + (pos - lo) * (abs[hi] - abs[lo]));
    }
  });

  it('rejects NaN, naming its index', () => {
    const v = new Float64Array(5000).fill(1);
    v[4321] = NaN;
    expect(() => absQuantile64(v, 0.5)).toThrow('values passed to absQuantile64() must not contain NaN but got NaN at index 4321');
  });

  it('matches a full sort on random float64 data with ties', () => {
    const rng = createRng(9);
    for (const n of [1, 2, 7, 5000]) {
      const v = Float64Array.from({ length: n }, () => (rng() < 0.3 ? Math.round(rng() * 4) : rng() - 0.5));
      const abs = Float64Array.from(v, Math.abs).sort();
      for (const q of [0, 0.5, 0.9, 1, rng()]) {
        const pos = q * (n - 1);
        const lo = Math.floor(pos);
        const hi = Math.min(lo + 1, n - 1);
        expect(absQuantile64(v, q)).toBe(abs[lo] + (pos - lo) * (abs[hi] - abs[lo]));
      }
    }
  });
});
