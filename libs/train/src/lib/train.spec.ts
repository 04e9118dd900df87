import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createTrainables, VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { evaluate } from './evaluate';
import { halvesDataset } from './testing';
import { train } from './train';
import { describeOnBackends } from '@fedsnell/backends/testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;
const snell = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });
const fast = { epochs: 4, batchSize: 8, lr: 0.02, adapterDropout: 0, dropPath: 0, seed: 3 };

let model: VisionTransformer;
let initial: TensorMap;

beforeAll(async () => {
  await useBackend('wasm');
  const folder = await loadBackboneFolder(FIXTURE);
  model = VisionTransformer.fromTensors(folder.config, folder.tensors);
  initial = createTrainables(model, snell, { numClasses: 2, seed: 1 });
});

afterAll(() => model.dispose());

describeOnBackends('train', () => {
  it('lowers the loss and learns a separable task', async () => {
    const data = halvesDataset(32, 16, 7);
    const before = await evaluate({ model, data, trainables: initial, snell });
    const { state, metrics } = await train({ model, data, initial, snell, config: fast });
    const after = await evaluate({ model, data, trainables: state, snell });
    expect(metrics.steps).toBe(16);
    expect(metrics.examples).toBe(128);
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    expect(after.accuracy).toBe(1);
  });

  it('returns the same state for the same seed', async () => {
    const data = halvesDataset(16, 16, 7);
    const a = await train({ model, data, initial, snell, config: { ...fast, epochs: 1 } });
    const b = await train({ model, data, initial, snell, config: { ...fast, epochs: 1 } });
    expect(Array.from(a.state.get('blocks.1.mlp.fc2.snell_A')?.data ?? [])).toEqual(
      Array.from(b.state.get('blocks.1.mlp.fc2.snell_A')?.data ?? []),
    );
  });

  it('returns exactly the trainable names it was given', async () => {
    const data = halvesDataset(8, 16, 7);
    const { state } = await train({ model, data, initial, snell, config: { ...fast, epochs: 1 } });
    expect([...state.keys()]).toEqual([...initial.keys()]);
    expect(state.get('cls_token')?.shape).toEqual([1, 1, 32]);
  });

  it('stays near the global state under a strong proximal term', async () => {
    const data = halvesDataset(16, 16, 7);
    const distance = (s: TensorMap) => {
      let d = 0;
      for (const [name, t] of s) t.data.forEach((v, i) => (d += (v - (initial.get(name)?.data[i] ?? 0)) ** 2));
      return Math.sqrt(d);
    };
    const free = await train({ model, data, initial, snell, config: { ...fast, epochs: 1 } });
    const prox = await train({ model, data, initial, snell, config: { ...fast, epochs: 1, proximalMu: 1000, lr: 1e-3 } });
    const loose = await train({ model, data, initial, snell, config: { ...fast, epochs: 1, lr: 1e-3 } });
    expect(distance(free.state)).toBeGreaterThan(0);
    expect(distance(prox.state)).toBeLessThan(distance(loose.state));
  });

  it('reports one progress event per step', async () => {
    const data = halvesDataset(16, 16, 7);
    const steps: number[] = [];
    await train({ model, data, initial, snell, config: { ...fast, epochs: 1 }, onProgress: (e) => steps.push(e.step) });
    expect(steps).toEqual([1, 2]);
  });

  it('stops at maxSteps', async () => {
    const data = halvesDataset(32, 16, 7);
    const { metrics } = await train({ model, data, initial, snell, config: { ...fast, maxSteps: 3 } });
    expect(metrics.steps).toBe(3);
  });

  it('stops when aborted', async () => {
    const data = halvesDataset(16, 16, 7);
    const controller = new AbortController();
    controller.abort();
    await expect(train({ model, data, initial, snell, config: fast, signal: controller.signal })).rejects.toThrow(
      'train(): aborted',
    );
  });

  it('needs a model to train on this thread', async () => {
    await expect(train({ data: halvesDataset(2, 16, 7), initial, snell, config: fast })).rejects.toThrow('train(): a model is required to train on this thread');
  });

  it.each([
    [0, 0],
    [0.1, 0.1],
  ])('leaks no tensors (adapter dropout %s, drop-path %s)', async (adapterDropout, dropPath) => {
    const data = halvesDataset(8, 16, 7);
    const before = tf.memory().numTensors;
    await train({ model, data, initial, snell, config: { ...fast, epochs: 1, adapterDropout, dropPath, proximalMu: 0.1 } });
    expect(tf.memory().numTensors).toBe(before);
  });
}, { backends: ['wasm'] });

describeOnBackends('evaluate', () => {
  it('counts per class', async () => {
    const data = halvesDataset(6, 16, 7);
    const result = await evaluate({ model, data, trainables: initial, snell, batchSize: 4 });
    expect(result.count).toBe(6);
    expect(result.perClass.map((c) => c.count)).toEqual([3, 3]);
    expect(result.perClass[0].correct + result.perClass[1].correct).toBe(Math.round(result.accuracy * 6));
  });

  it('rejects a head whose class count differs from the data', async () => {
    const data = halvesDataset(4, 16, 7);
    // the fixture's own head has 5 classes
    await expect(evaluate({ model, data })).rejects.toThrow('evaluate(): the model predicts 5 classes but the data has 2');
  });
}, { backends: ['wasm'] });

describe('train on webgpu', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('trains with asynchronously read thresholds and matches wasm', async () => {
    // WebGPU in Node has no synchronous reads: the trainer must read every τ asynchronously
    const data = halvesDataset(4, 16, 7);
    const config = { ...fast, epochs: 1, batchSize: 4 };
    await useBackend('wasm');
    const onWasm = await train({ model, data, initial, snell, config });
    await useBackend('webgpu');
    const gpuModel = VisionTransformer.fromTensors(model.config, (await loadBackboneFolder(FIXTURE)).tensors);
    const onGpu = await train({ model: gpuModel, data, initial, snell, config });
    gpuModel.dispose();
    expect(onGpu.metrics.loss).toBeCloseTo(onWasm.metrics.loss, 4);
    const a = onWasm.state.get('head.weight')?.data ?? new Float32Array();
    const b = onGpu.state.get('head.weight')?.data ?? new Float32Array();
    let maxDiff = 0;
    a.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - b[i]))));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describeOnBackends('train with block checkpointing', () => {
  it('gives the same state as without', async () => {
    const data = halvesDataset(8, 16, 7);
    const plain = await train({ model, data, initial, snell, config: { ...fast, epochs: 1 } });
    const ckpt = await train({ model, data, initial, snell, config: { ...fast, epochs: 1, checkpoint: true } });
    const a = plain.state.get('blocks.0.attn.q.snell_A')?.data ?? new Float32Array();
    const b = ckpt.state.get('blocks.0.attn.q.snell_A')?.data ?? new Float32Array();
    let maxDiff = 0;
    a.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - b[i]))));
    expect(maxDiff).toBeLessThan(1e-5);
  });
}, { backends: ['wasm'] });
