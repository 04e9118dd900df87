import type { Task } from '@fedsnell/protocol';
import { adapterMetadata } from './adapter-metadata';

const task = {
  taskId: 't',
  backbone: { sha256: 'a'.repeat(64), url: '/m', configUrl: '/c', bytes: 1, config: {} },
  snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, targets: [] },
  trainer: { epochs: 1, batchSize: 4, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 0 },
  data: { classes: ['a'] },
  updateDtype: 'f32',
} satisfies Task;

describe('adapterMetadata', () => {
  it('names the completed round a checkpoint holds (0-based, as /api/rounds)', () => {
    // checkpoint 3 is what round 3 starts from: the adapter after round 2
    expect(adapterMetadata(task, 'fedavg', 3, new Map())['round']).toBe(2);
  });

  it('names no round for the initial state', () => {
    expect('round' in adapterMetadata(task, 'fedavg', 0, new Map())).toBe(false);
  });
});
