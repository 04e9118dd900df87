import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { subset } from '@fedsnell/data';
import { resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createTrainables, resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import { halvesDataset } from '../testing';
import { train as trainOnThisThread } from '../train';
import { train, workersFor } from './node-train';
import { ParallelGradientEngine, resolveWorkers } from './parallel-engine';
import { tinyBackboneSource } from './testing';

// Real worker threads (tsx-loaded): each start costs a few seconds, so the cases share little setup.
jest.setTimeout(120_000);

const snell = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });
// batches of 5 split 3 + 2 over two workers: unequal slices exercise the size weighting
const config = { batchSize: 5, epochs: 2, adapterDropout: 0, dropPath: 0, lr: 1e-2, seed: 4 };
const backbone = tinyBackboneSource();

let model: VisionTransformer;

beforeAll(async () => {
  await useBackend('wasm');
  model = VisionTransformer.fromTensors(resolveVitConfig(backbone.configJson), backbone.tensors);
});

afterAll(() => model.dispose());

function initialState(): TensorMap {
  return createTrainables(model, snell, { numClasses: 2, seed: 3 });
}

function maxRelativeDifference(a: TensorMap, b: TensorMap): number {
  let worst = 0;
  for (const [name, t] of a) {
    const u = b.get(name)?.data ?? new Float32Array(0);
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - u[i]) / Math.max(Math.abs(t.data[i]), 1e-3));
  }
  return worst;
}

describe('train with workers', () => {
  it('matches training on this thread with 2 workers', async () => {
    const data = halvesDataset(10, 8, 5);
    const initial = initialState();
    const single = await trainOnThisThread({ model, data, initial, snell, config });

    const parallel = await train({ model, backbone, data, initial, snell, config, workers: 2 });

    expect(parallel.metrics.steps).toBe(single.metrics.steps);
    expect(parallel.metrics.loss).toBeCloseTo(single.metrics.loss, 5);
    expect(maxRelativeDifference(single.state, parallel.state)).toBeLessThan(1e-4);
    // the state moved, so the comparison is not between two copies of `initial`
    expect(maxRelativeDifference(initial, parallel.state)).toBeGreaterThan(1e-3);
  });

  it('gives this thread and 2 workers the same state under a dense warm-up', async () => {
    const data = halvesDataset(10, 8, 5);
    const initial = initialState();
    const cfg = { ...config, denseWarmupEpochs: 1 };
    const single = await trainOnThisThread({ model, data, initial, snell, config: cfg });
    const plain = await trainOnThisThread({ model, data, initial, snell, config });

    const parallel = await train({ model, backbone, data, initial, snell, config: cfg, workers: 2 });

    expect(maxRelativeDifference(single.state, parallel.state)).toBeLessThan(1e-4);
    // the warm-up changed the run, so the workers must have trained dense for the first epoch
    expect(maxRelativeDifference(plain.state, parallel.state)).toBeGreaterThan(1e-3);
  });

  it('gives this thread and 2 workers the same state with the FedProx term', async () => {
    const data = halvesDataset(9, 8, 6);
    const initial = initialState();
    const cfg = { ...config, proximalMu: 0.5 };

    const one = await trainOnThisThread({ model, data, initial, snell, config: cfg });
    const two = await train({ model, backbone, data, initial, snell, config: cfg, workers: 2 });

    expect(maxRelativeDifference(one.state, two.state)).toBeLessThan(1e-4);
  });

  it('gives this thread and 2 workers the same state with logit adjustment', async () => {
    // six of class 0, one of class 1: the offsets are far from zero, so a worker without them would differ
    const data = subset(halvesDataset(12, 8, 6), [0, 1, 2, 4, 6, 8, 10]);
    const initial = initialState();
    const cfg = { ...config, logitAdjustment: 1 };

    const one = await trainOnThisThread({ model, data, initial, snell, config: cfg });
    const plain = await trainOnThisThread({ model, data, initial, snell, config });
    const two = await train({ model, backbone, data, initial, snell, config: cfg, workers: 2 });

    expect(maxRelativeDifference(one.state, two.state)).toBeLessThan(1e-4);
    expect(maxRelativeDifference(plain.state, two.state)).toBeGreaterThan(1e-3);
  });

  it('gives the same state with checkpointed blocks', async () => {
    const data = halvesDataset(6, 8, 8);
    const initial = initialState();
    const cfg = { ...config, epochs: 1, checkpoint: false };

    const plain = await train({ model, backbone, data, initial, snell, config: cfg, workers: 2 });
    const checkpointed = await train({ model, backbone, data, initial, snell, config: { ...cfg, checkpoint: true }, workers: 2 });

    expect(maxRelativeDifference(plain.state, checkpointed.state)).toBeLessThan(1e-4);
  });

  it('leaks no main-thread tensors', async () => {
    const data = halvesDataset(4, 8, 7);
    const initial = initialState();
    const before = tf.memory().numTensors;

    await train({ model, backbone, data, initial, snell, config: { ...config, epochs: 1, proximalMu: 0.1 }, workers: 2 });

    expect(tf.memory().numTensors).toBe(before);
  });

  it("trains a backbone below the 'auto' cost threshold on this thread, bit for bit", async () => {
    const data = halvesDataset(6, 8, 9);
    const initial = initialState();
    const cfg = { ...config, epochs: 1 };

    const single = await trainOnThisThread({ model, data, initial, snell, config: cfg });
    const auto = await train({ model, backbone, data, initial, snell, config: cfg, workers: 'auto' });

    expect(workersFor({ workers: 'auto', backbone, config: cfg, data })).toBe(1);
    expect(maxRelativeDifference(single.state, auto.state)).toBe(0);
  });

  it('needs the backbone for more than one worker', async () => {
    await expect(train({ model, data: halvesDataset(2, 8, 1), initial: initialState(), snell, config, workers: 2 })).rejects.toThrow(
      'train(): workers 2 needs the backbone to hand to each worker',
    );
  });
});

describe('resolveWorkers', () => {
  it('reads auto as the core count, at most 4', () => {
    expect(resolveWorkers('auto')).toBeGreaterThanOrEqual(1);
    expect(resolveWorkers('auto')).toBeLessThanOrEqual(4);
  });

  it('takes an absent count as 1 and a numeric string as its number', () => {
    expect(resolveWorkers(undefined)).toBe(1);
    expect(resolveWorkers('3')).toBe(3);
  });

  it.each([['0'], ['1.5'], ['x'], [65]])('rejects %s naming the argument', (value) => {
    expect(() => resolveWorkers(value, '--workers')).toThrow(`--workers must be auto or an integer in [1, 64] but got '${value}'`);
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
      "workers passed to ParallelGradientEngine.create() must be auto or an integer in [1, 64] but got '0'",
    );
  });
});
