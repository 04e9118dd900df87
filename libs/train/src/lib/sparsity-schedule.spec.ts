import { resolveSnellConfig } from '@fedsnell/snell';
import { resolveTrainerConfig } from './config';
import { snellAtStep, sparsityAt, sparsityScheduleFor } from './sparsity-schedule';

describe('sparsityScheduleFor', () => {
  it('converts warm-up and ramp epochs to steps', () => {
    // 10 images at batch 4: 3 steps per epoch
    const cfg = resolveTrainerConfig({ batchSize: 4, denseWarmupEpochs: 1, sparsityRampEpochs: 2 });
    expect(sparsityScheduleFor(cfg, 0.9, 10)).toEqual({ target: 0.9, denseSteps: 3, rampSteps: 6 });
  });
});

describe('sparsityAt', () => {
  it('is the target at every step by default', () => {
    const schedule = sparsityScheduleFor(resolveTrainerConfig(), 0.9, 100);
    expect([0, 1, 50].map((s) => sparsityAt(s, schedule))).toEqual([0.9, 0.9, 0.9]);
  });

  it('trains dense for the warm-up steps, then switches to the target', () => {
    const schedule = { target: 0.5, denseSteps: 2, rampSteps: 0 };
    expect([0, 1, 2, 3].map((s) => sparsityAt(s, schedule))).toEqual([0, 0, 0.5, 0.5]);
  });

  it('ramps linearly from 0 to the target after the warm-up', () => {
    const schedule = { target: 0.8, denseSteps: 1, rampSteps: 4 };
    expect([0, 1, 2, 3, 4, 5].map((s) => sparsityAt(s, schedule))).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 0.8]);
  });
});

describe('snellAtStep', () => {
  const snell = resolveSnellConfig({ sparsity: 0.9 });

  it('returns the same configuration object at the target', () => {
    expect(snellAtStep(snell, 5, { target: 0.9, denseSteps: 0, rampSteps: 0 })).toBe(snell);
  });

  it('switches to dense KLoRA during the warm-up', () => {
    expect(snellAtStep(snell, 0, { target: 0.9, denseSteps: 3, rampSteps: 0 })).toEqual({ ...snell, sparsity: 0 });
  });

  it('leaves full fine-tuning (no adapter) alone', () => {
    expect(snellAtStep(undefined, 0, { target: 0.9, denseSteps: 3, rampSteps: 0 })).toBeUndefined();
  });
});
