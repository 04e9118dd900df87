// Valid payloads for specs; each spec breaks one field at a time.
import { encodeTensor } from './tensor';
import type { Chunk, JoinRequest, RoundStart, Task, Update } from './schemas';

export const SHA = 'a'.repeat(64);

export function validUpdate(): Update {
  return {
    taskId: 'task-1',
    round: 3,
    tensors: [encodeTensor('blocks.0.attn.q.snell_A', [1, 2, 2], new Float32Array([1, 2, 3, 4]))],
    numExamples: 10,
    metrics: { loss: 0.5, accuracy: 0.75, examplesPerSecond: 12, seconds: 2 },
  };
}

export function validJoin(): JoinRequest {
  return { protocolVersion: 1, capabilities: { backend: 'wasm', platform: 'node' }, resume: { taskId: 'task-1', lastRound: 2 } };
}

export function validTask(): Task {
  return {
    taskId: 'task-1',
    backbone: {
      sha256: SHA,
      url: `/backbone/${SHA}/model.safetensors`,
      configUrl: `/backbone/${SHA}/config.json`,
      bytes: 1234,
      config: { architecture: 'vit_tiny_patch16_224' },
    },
    snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 8, sparsity: 0.9, targets: ['q', 'v'] },
    trainer: { epochs: 1, batchSize: 8, lr: 0.001, weightDecay: 0.01, schedule: 'cosine', seed: 7 },
    data: { classes: ['cat', 'dog'] },
    updateDtype: 'f32',
  };
}

export function validRoundStart(): RoundStart {
  return { taskId: 'task-1', round: 0, deadline: 1_800_000_000_000, seed: 42, state: validUpdate().tensors, overrides: { proximalMu: 0.01 } };
}

export function validChunk(): Chunk {
  return { transferId: 't1', event: 'update', index: 0, total: 2, totalBytes: 5, sha256: SHA, bytes: new Uint8Array([1, 2, 3]) };
}
