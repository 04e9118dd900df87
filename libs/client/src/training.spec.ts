import type { Task } from '@fedsnell/protocol';
import { trainerConfigOf } from './training';

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

describe('trainerConfigOf', () => {
  it('applies overrides and the round seed over the task', () => {
    const cfg = trainerConfigOf(task(), { seed: 99, overrides: { proximalMu: 0.01, epochs: 1 } });
    expect([cfg.epochs, cfg.batchSize, cfg.lr, cfg.proximalMu, cfg.seed, cfg.dropPath]).toEqual([1, 4, 0.01, 0.01, 99, 0]);
  });

  it('passes activation checkpointing through', () => {
    const t = task({ trainer: { epochs: 1, batchSize: 2, lr: 0.05, weightDecay: 0, schedule: 'cosine', seed: 1, checkpoint: true } });
    expect(trainerConfigOf(t, { seed: 1 }).checkpoint).toBe(true);
  });

  it('turns a constant schedule into a floor at lr', () => {
    const cfg = trainerConfigOf(task({ trainer: { epochs: 1, batchSize: 2, lr: 0.05, weightDecay: 0, schedule: 'constant', seed: 1 } }), { seed: 1 });
    expect([cfg.minLr, cfg.warmupEpochs]).toEqual([0.05, 0]);
  });

  it('rejects an unknown schedule', () => {
    const t = task({ trainer: { epochs: 1, batchSize: 2, lr: 0.05, weightDecay: 0, schedule: 'step', seed: 1 } });
    expect(() => trainerConfigOf(t, { seed: 1 })).toThrow("task t1 asks for trainer schedule 'step' but this client supports 'cosine' and 'constant'");
  });
});

