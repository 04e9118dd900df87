import { DEFAULT_TRAINER_CONFIG, resolveTrainerConfig } from './config';

describe('resolveTrainerConfig', () => {
  it('fills defaults', () => {
    expect(resolveTrainerConfig({ lr: 0.01 })).toEqual({ ...DEFAULT_TRAINER_CONFIG, lr: 0.01 });
  });

  it('ignores undefined fields', () => {
    expect(resolveTrainerConfig({ batchSize: undefined }).batchSize).toBe(DEFAULT_TRAINER_CONFIG.batchSize);
  });

  it('rejects a non-positive batch size', () => {
    expect(() => resolveTrainerConfig({ batchSize: 0 })).toThrow('trainer batchSize must be a positive integer but got 0');
  });

  it('rejects NaN learning rates', () => {
    expect(() => resolveTrainerConfig({ lr: NaN })).toThrow('trainer lr must be a positive number but got NaN');
  });

  it('rejects dropout of 1', () => {
    expect(() => resolveTrainerConfig({ adapterDropout: 1 })).toThrow('trainer adapterDropout must be in [0, 1) but got 1');
  });

  it('keeps the reference semantics by default: one learning rate, sparse from the first step', () => {
    expect(resolveTrainerConfig()).toMatchObject({ factorLrScale: 1, denseWarmupEpochs: 0, sparsityRampEpochs: 0 });
  });

  it('rejects a zero factor learning-rate scale', () => {
    expect(() => resolveTrainerConfig({ factorLrScale: 0 })).toThrow('trainer factorLrScale must be a positive number but got 0');
  });

  it('rejects a negative dense warm-up', () => {
    expect(() => resolveTrainerConfig({ denseWarmupEpochs: -1 })).toThrow('trainer denseWarmupEpochs must be a non-negative number but got -1');
  });

  it('rejects a NaN sparsity ramp', () => {
    expect(() => resolveTrainerConfig({ sparsityRampEpochs: NaN })).toThrow('trainer sparsityRampEpochs must be a non-negative number but got NaN');
  });
});
