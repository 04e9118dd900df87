import { deriveSeed, mulberry32, permutation } from './rng';

describe('permutation', () => {
  it('holds every index once', () => {
    expect([...permutation(50, mulberry32(1))].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('depends on the derived stream', () => {
    expect(permutation(20, mulberry32(deriveSeed(1, 0)))).not.toEqual(permutation(20, mulberry32(deriveSeed(1, 1))));
  });
});
