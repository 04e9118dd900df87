import { useBackend } from '@fedsnell/backends';
import type { Dataset } from '@fedsnell/data';
import { exactSparseAverage, type ClientUpdate } from '@fedsnell/federation';
import { createRng, resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { evaluate } from '@fedsnell/train';
import { createTrainables, mergeAdapter, VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder, type BackboneFolder } from '@fedsnell/vit/node';
import { createEvaluator } from './evaluator';
import { describeOnBackends } from '@fedsnell/backends/testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;
const snell = resolveSnellConfig({ rank: 4, sparsity: 0.5 });

/** Seeded images in model space (the fixture normalises with mean 0, std 1). */
function randomDataset(count: number, classes: number, seed: number): Dataset {
  const rng = createRng(seed);
  const pixels = 3 * 16 * 16;
  const images = Array.from({ length: count }, () => Float32Array.from({ length: pixels }, () => rng()));
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  return {
    classes: Array.from({ length: classes }, (_, c) => `c${c}`),
    size: count,
    labels,
    async load(indices) {
      const x = new Float32Array(indices.length * pixels);
      indices.forEach((idx, k) => x.set(images[idx], k * pixels));
      return { x, y: Int32Array.from(indices, (i) => labels[i]) };
    },
  };
}

/** A client state: the initial trainables with every value scaled, so that updates differ. */
function scaled(state: TensorMap, factor: number): TensorMap {
  return new Map([...state].map(([n, t]) => [n, { shape: t.shape, data: t.data.map((v) => v * factor) }]));
}

let folder: BackboneFolder;

beforeAll(async () => {
  await useBackend('cpu');
  folder = await loadBackboneFolder(FIXTURE);
});

describeOnBackends('createEvaluator', () => {
  it("scores SNELL-exact's exact mean as the mean of the clients' merged backbones", async () => {
    const data = randomDataset(12, 3, 5);
    const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
    const base = createTrainables(model, snell, { numClasses: 3, seed: 2 });
    model.dispose();
    const updates: ClientUpdate[] = [
      { clientId: 'a', numExamples: 1, state: scaled(base, 40) },
      { clientId: 'b', numExamples: 3, state: scaled(base, -25) },
    ];
    const weights = [0.25, 0.75];
    // the head and cls_token the strategy hands out (example-weighted like FedAvg)
    const dense: TensorMap = new Map();
    for (const name of ['head.weight', 'head.bias', 'cls_token']) {
      const t = updates[0].state.get(name);
      if (!t) continue;
      dense.set(name, { shape: t.shape, data: t.data.map((_, i) => updates.reduce((acc, u, k) => acc + weights[k] * (u.state.get(name)?.data[i] ?? 0), 0)) });
    }
    const evaluator = createEvaluator({ config: folder.config, backbone: folder.tensors, data, snell, batchSize: 5 });
    const metrics = await evaluator(new Map([...base, ...dense]), exactSparseAverage(updates, snell));

    // reference: merge each client's adapter into its own backbone copy, average the backbones
    const merged = updates.map((u) => mergeAdapter(folder.tensors, { config: snell, tensors: u.state }));
    const averaged: TensorMap = new Map();
    for (const [name, t] of merged[0]) {
      averaged.set(name, { shape: t.shape, data: t.data.map((_, i) => merged.reduce((acc, m, k) => acc + weights[k] * (m.get(name)?.data[i] ?? 0), 0)) });
    }
    for (const [name, t] of dense) averaged.set(name, t);
    const reference = VisionTransformer.fromTensors({ ...folder.config, numClasses: 3 }, averaged);
    const expected = await evaluate({ model: reference, data, batchSize: 5 });
    reference.dispose();

    expect(metrics['count']).toBe(12);
    expect(metrics['accuracy']).toBe(expected.accuracy);
    expect(metrics['loss']).toBeCloseTo(expected.loss, 4);
  });

  it('scores a factor state as the backbone with that adapter merged', async () => {
    const data = randomDataset(6, 3, 9);
    const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
    const state = scaled(createTrainables(model, snell, { numClasses: 3, seed: 4 }), 30);
    const withAdapter = await evaluate({ model, data, trainables: state, snell, batchSize: 4 });
    model.dispose();
    const metrics = await createEvaluator({ config: folder.config, backbone: folder.tensors, data, snell, batchSize: 4 })(state);
    expect(metrics['accuracy']).toBe(withAdapter.accuracy);
    expect(metrics['loss']).toBeCloseTo(withAdapter.loss, 4);
    expect(Object.keys(metrics)).toEqual(expect.arrayContaining(['accuracy/c0', 'accuracy/c1', 'accuracy/c2']));
  });
}, { backends: ['cpu'] });
