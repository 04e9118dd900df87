import { DEFAULT_SNELL_CONFIG, describeSnellConfig, resolveSnellConfig, snellDefaultsFor } from './config';

describe('resolveSnellConfig', () => {
  it('fills the reference defaults', () => {
    expect(resolveSnellConfig()).toEqual({
      kernel: 'distance',
      p: 2,
      scale: 0.1,
      heads: 2,
      rank: 8,
      sparsity: 0.9,
      threshold: 'reference',
    });
  });

  it('keeps given values', () => {
    expect(resolveSnellConfig({ rank: 16, heads: 4, sparsity: 0, p: 1 })).toMatchObject({ rank: 16, heads: 4, sparsity: 0, p: 1 });
  });

  it('gives the linear kernel one head and no coefficient', () => {
    expect(resolveSnellConfig({ kernel: 'linear' })).toMatchObject({ heads: 1, scale: 1 });
  });

  it('makes the linear kernel alone plain dense LoRA', () => {
    expect(describeSnellConfig(resolveSnellConfig({ kernel: 'linear' })).mode).toBe('lora-dense');
  });

  it('keeps an explicit sparsity for the linear kernel', () => {
    expect(resolveSnellConfig({ kernel: 'linear', sparsity: 0.5 }).sparsity).toBe(0.5);
  });

  it.each([
    [{ rank: 7 }, 'rank passed to resolveSnellConfig() must divide evenly by heads (2) but got 7'],
    [{ sparsity: 1 }, 'sparsity passed to resolveSnellConfig() must be in [0, 1) but got 1'],
    [{ sparsity: -0.1 }, 'sparsity passed to resolveSnellConfig() must be in [0, 1) but got -0.1'],
    [{ sparsity: NaN }, 'sparsity passed to resolveSnellConfig() must be in [0, 1) but got NaN'],
    [{ p: 3 }, 'p passed to resolveSnellConfig() must be 1 or 2 but got 3'],
    [{ heads: 0 }, 'heads passed to resolveSnellConfig() must be a positive integer but got 0'],
    [{ rank: 2.5 }, 'rank passed to resolveSnellConfig() must be a positive integer but got 2.5'],
    [{ scale: 0 }, 'scale passed to resolveSnellConfig() must be a finite number > 0 but got 0'],
    [{ kernel: 'rbf' }, 'kernel passed to resolveSnellConfig() must be \'distance\' or \'linear\' but got "rbf"'],
    [{ kernel: 'linear', heads: 2 }, "heads passed to resolveSnellConfig() must be 1 for the 'linear' kernel but got 2"],
    [{ kernel: 'linear', scale: 0.1 }, "scale passed to resolveSnellConfig() must be 1 for the 'linear' kernel (it has no coefficient) but got 0.1"],
    [{ threshold: 'hard' }, 'threshold passed to resolveSnellConfig() must be \'reference\' or \'soft\' but got "hard"'],
  ])('rejects %j', (partial, message) => {
    expect(() => resolveSnellConfig(partial as never)).toThrow(message);
  });
});

describe('describeSnellConfig', () => {
  it('marks sparsity 0 as dense KLoRA', () => {
    expect(describeSnellConfig(resolveSnellConfig({ sparsity: 0 })).mode).toBe('klora-dense');
  });

  it('marks sparsity > 0 as sparse', () => {
    expect(describeSnellConfig(resolveSnellConfig({ sparsity: 0.5 })).mode).toBe('sparse');
  });

  it('marks dense linear as LoRA', () => {
    expect(describeSnellConfig(resolveSnellConfig({ kernel: 'linear', sparsity: 0 })).mode).toBe('lora-dense');
  });

  it('lists alternating coefficients and the head width', () => {
    const summary = describeSnellConfig(resolveSnellConfig({ heads: 4, rank: 8 }));
    expect(summary.coefficients).toEqual([0.1, -0.1, 0.1, -0.1]);
    expect(summary.headDim).toBe(2);
  });
});

describe('snellDefaultsFor', () => {
  it('gives the distance kernel the SNELL reference defaults', () => {
    expect(snellDefaultsFor('distance')).toEqual(DEFAULT_SNELL_CONFIG);
    expect(resolveSnellConfig()).toEqual(DEFAULT_SNELL_CONFIG);
  });

  it('gives the linear kernel plain dense LoRA, as resolveSnellConfig fills it', () => {
    expect(snellDefaultsFor('linear')).toEqual({ ...DEFAULT_SNELL_CONFIG, kernel: 'linear', heads: 1, scale: 1, sparsity: 0 });
    expect(resolveSnellConfig({ kernel: 'linear' })).toEqual(snellDefaultsFor('linear'));
  });
});
