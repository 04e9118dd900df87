import type { Task } from '@fedsnell/protocol';
import { DataError, TaskConfigError } from './errors';
import { checkClasses, snellConfigOf, trainerSettingsOf } from './task-config';

function task(over: Partial<Task> = {}): Task {
  return {
    taskId: 't1',
    backbone: { sha256: 'a'.repeat(64), url: '/m', configUrl: '/c', bytes: 1, config: {} },
    snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, targets: ['attn.q'], threshold: 'soft' },
    trainer: { epochs: 2, batchSize: 4, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 3, dropPath: 0, fancy: 'ignored' },
    data: { classes: ['a', 'b', 'c'] },
    updateDtype: 'f32',
    ...over,
  };
}

describe('snellConfigOf', () => {
  it('keeps the adapter fields and drops targets', () => {
    expect(snellConfigOf(task())).toEqual({ kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, threshold: 'soft' });
  });

  it('names the task on a bad configuration', () => {
    const bad = task({ snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 3, rank: 4, sparsity: 0.5, targets: [] } });
    expect(() => snellConfigOf(bad)).toThrow('task t1 has a SNELL configuration this client cannot use: rank passed to resolveSnellConfig() must divide evenly by heads (3) but got 4');
  });
});

describe('trainerSettingsOf', () => {
  it('passes the short-run SNELL options of the task to the trainer', () => {
    const t = task({ trainer: { epochs: 1, batchSize: 2, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 1, factorLrScale: 10, denseWarmupEpochs: 0.5, sparsityRampEpochs: 1 } });
    expect(trainerSettingsOf(t, { seed: 1 })).toMatchObject({ factorLrScale: 10, denseWarmupEpochs: 0.5, sparsityRampEpochs: 1 });
  });

  it('rejects an unknown schedule with a TaskConfigError', () => {
    const t = task({ trainer: { epochs: 1, batchSize: 2, lr: 0.05, weightDecay: 0, schedule: 'step', seed: 1 } });
    expect(() => trainerSettingsOf(t, { seed: 1 })).toThrow(TaskConfigError);
  });
});

describe('checkClasses', () => {
  it('accepts the same classes', () => {
    expect(() => checkClasses(task(), ['a', 'b', 'c'], '/d')).not.toThrow();
  });

  it('throws a DataError', () => {
    expect(() => checkClasses(task(), ['a', 'b'], '/d')).toThrow(DataError);
  });

  it('names missing and unexpected classes', () => {
    expect(() => checkClasses(task(), ['a', 'b', 'x', 'y'], '/d')).toThrow(
      "data folder /d must have the task's 3 class folders (a, b, c) but has 4 (a, b, x, y): missing c; unexpected x, y",
    );
  });
});
