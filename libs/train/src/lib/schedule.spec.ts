import { learningRateAt, scheduleFor, totalStepsFor } from './schedule';

const cfg = { lr: 1e-3, warmupLr: 1e-6, minLr: 1e-5, warmupSteps: 10, totalSteps: 110 };

describe('learningRateAt', () => {
  it('starts at the warm-up rate', () => {
    expect(learningRateAt(0, cfg)).toBeCloseTo(1e-6, 12);
  });

  it('rises linearly during warm-up', () => {
    expect(learningRateAt(5, cfg)).toBeCloseTo(1e-6 + (1e-3 - 1e-6) / 2, 12);
  });

  it('peaks at the end of warm-up', () => {
    expect(learningRateAt(10, cfg)).toBeCloseTo(1e-3, 12);
  });

  it('is halfway between peak and floor in the middle of the decay', () => {
    expect(learningRateAt(60, cfg)).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
  });

  it('ends at the floor and stays there', () => {
    expect(learningRateAt(110, cfg)).toBeCloseTo(1e-5, 12);
    expect(learningRateAt(500, cfg)).toBeCloseTo(1e-5, 12);
  });
});

describe('scheduleFor', () => {
  const cfg = { epochs: 3, maxSteps: 0, batchSize: 4, lr: 1e-3, warmupLr: 1e-6, minLr: 1e-5, warmupEpochs: 0.5 };

  it('counts steps from the data size and epochs', () => {
    // 10 images in batches of 4: 3 steps an epoch, 9 in all, warm-up half an epoch rounds to 2
    expect(scheduleFor(cfg, 10)).toEqual({ lr: 1e-3, warmupLr: 1e-6, minLr: 1e-5, warmupSteps: 2, totalSteps: 9 });
  });

  it('stops at maxSteps', () => {
    expect(scheduleFor({ ...cfg, maxSteps: 4 }, 10).totalSteps).toBe(4);
  });

  it('never lets the floor exceed the peak', () => {
    expect(scheduleFor({ ...cfg, lr: 1e-6 }, 10).minLr).toBe(1e-6);
  });
});

describe('totalStepsFor', () => {
  it('counts a short last batch as a step', () => {
    expect(totalStepsFor({ epochs: 2, maxSteps: 0, batchSize: 4 }, 9)).toBe(6);
  });

  it('is capped by maxSteps only when maxSteps is below the full count', () => {
    expect(totalStepsFor({ epochs: 2, maxSteps: 5, batchSize: 4 }, 9)).toBe(5);
    expect(totalStepsFor({ epochs: 2, maxSteps: 50, batchSize: 4 }, 9)).toBe(6);
  });
});
