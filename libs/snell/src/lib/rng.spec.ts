import { createRng } from './rng';

describe('createRng', () => {
  it('repeats for the same seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('differs across seeds', () => {
    expect(createRng(1)()).not.toBe(createRng(2)());
  });

  it('stays in [0, 1) with mean near 1/2', () => {
    const rng = createRng(7);
    const xs = Array.from({ length: 10000 }, rng);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
  });

  it('rejects a non-integer seed', () => {
    expect(() => createRng(1.5)).toThrow('seed passed to createRng() must be an integer but got 1.5');
  });
});
