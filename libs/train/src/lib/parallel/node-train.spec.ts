import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createTrainables, resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import { halvesDataset } from '../testing';
import { trainLocal } from '../trainer';
import { ParallelGradientEngine } from './parallel-engine';
import { trainLocalParallel } from './train-parallel';
import { tinyBackboneSource } from './testing';

// Real worker threads (tsx-loaded): each start costs a few seconds, so the cases share little setup.
jest.setTimeout(120_000);

const snell = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });
// batches of 5 split 3 + 2 over two workers: unequal slices exercise the size weighting
const config = { batchSize: 5, epochs: 2, adapterDropout: 0, dropPath: 0, lr: 1e-2, seed: 4 };
const backbone = tinyBackboneSource();

function initialState(): TensorMap {
  const model = VisionTransformer.fromTensors(resolveVitConfig(backbone.configJson), backbone.tensors);
  const initial = createTrainables(model, snell, { numClasses: 2, seed: 3 });
  model.dispose();
  return initial;
}

function maxRelativeDifference(a: TensorMap, b: TensorMap): number {
  let worst = 0;
  for (const [name, t] of a) {
    const u = b.get(name)?.data ?? new Float32Array(0);
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - u[i]) / Math.max(Math.abs(t.data[i]), 1e-3));
  }
  return worst;
}

describe('trainLocalParallel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('matches trainLocal with 2 workers', async () => {
    const data = halvesDataset(10, 8, 5);
    const initial = initialState();
    const model = VisionTransformer.fromTensors(resolveVitConfig(backbone.configJson), backbone.tensors);
    const single = await trainLocal({ model, data, initial, snell, config });
    model.dispose();

    const parallel = await trainLocalParallel({ backbone, data, initial, snell, config, workers: 2 });

    expect(parallel.metrics.steps).toBe(single.metrics.steps);
    expect(parallel.metrics.loss).toBeCloseTo(single.metrics.loss, 5);
    expect(maxRelativeDifference(single.state, parallel.state)).toBeLessThan(1e-4);
    // the state moved, so the comparison is not between two copies of `initial`
    expect(maxRelativeDifference(initial, parallel.state)).toBeGreaterThan(1e-3);
  });

  it('gives 1 and 2 workers the same state with the FedProx term', async () => {
    const data = halvesDataset(9, 8, 6);
    const initial = initialState();
    const cfg = { ...config, proximalMu: 0.5 };

    const one = await trainLocalParallel({ backbone, data, initial, snell, config: cfg, workers: 1 });
    const two = await trainLocalParallel({ backbone, data, initial, snell, config: cfg, workers: 2 });

    expect(maxRelativeDifference(one.state, two.state)).toBeLessThan(1e-4);
  });

  it('gives the same state with checkpointed blocks', async () => {
    const data = halvesDataset(6, 8, 8);
    const initial = initialState();
    const cfg = { ...config, epochs: 1 };

    const plain = await trainLocalParallel({ backbone, data, initial, snell, config: cfg, workers: 1 });
    const checkpointed = await trainLocalParallel({ backbone, data, initial, snell, config: cfg, workers: 1, checkpoint: true });

    expect(maxRelativeDifference(plain.state, checkpointed.state)).toBeLessThan(1e-4);
  });

  it('leaks no main-thread tensors', async () => {
    const data = halvesDataset(4, 8, 7);
    const initial = initialState();
    const before = tf.memory().numTensors;

    await trainLocalParallel({ backbone, data, initial, snell, config: { ...config, epochs: 1 }, workers: 1 });

    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ParallelGradientEngine', () => {
  it('rejects a trainable of the wrong size before sending anything', async () => {
    const engine = await ParallelGradientEngine.create({ backbone, trainables: [{ name: 'head.bias', shape: [2] }], numClasses: 2, workers: 1 });
    try {
      await expect(engine.gradients(new Map([['head.bias', new Float32Array(3)]]), { x: new Float32Array(192), y: Int32Array.of(0), n: 1 })).rejects.toThrow(
        "trainables passed to ParallelGradientEngine.gradients() must hold 'head.bias' with 2 values but got 3",
      );
    } finally {
      await engine.close();
    }
  });

  it('refuses work after close', async () => {
    const engine = await ParallelGradientEngine.create({ backbone, trainables: [{ name: 'head.bias', shape: [2] }], numClasses: 2, workers: 1 });
    await engine.close();

    await expect(engine.gradients(new Map([['head.bias', new Float32Array(2)]]), { x: new Float32Array(192), y: Int32Array.of(0), n: 1 })).rejects.toThrow(
      'ParallelGradientEngine: closed',
    );
  });

  it('rejects a worker count of 0', async () => {
    await expect(ParallelGradientEngine.create({ backbone, trainables: [], numClasses: 2, workers: 0 })).rejects.toThrow(
      'workers passed to ParallelGradientEngine.create() must be an integer in [1, 64] but got 0',
    );
  });
});
