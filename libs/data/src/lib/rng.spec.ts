import { deriveSeed, mulberry32, permutation } from './rng';

describe('mulberry32', () => {
  it('repeats for the same seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('differs between seeds', () => {
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });

  it('stays in [0, 1)', () => {
    const rng = mulberry32(3);
    const xs = Array.from({ length: 1000 }, rng);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('rejects a non-integer seed', () => {
    expect(() => mulberry32(0.5)).toThrow('seed passed to mulberry32() must be an integer but got 0.5');
  });
});

describe('permutation', () => {
  it('holds every index once', () => {
    expect([...permutation(50, mulberry32(1))].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('depends on the derived stream', () => {
    expect(permutation(20, mulberry32(deriveSeed(1, 0)))).not.toEqual(permutation(20, mulberry32(deriveSeed(1, 1))));
  });
});
