import { useBackend } from '@fedsnell/backends';
import { resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createTrainables, VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { halvesDataset } from './testing';
import { train } from './train';
import { describeOnBackends } from '@fedsnell/backends/testing';

// The short-run options of TrainerConfig, each against the run without it.
const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;
const sparse = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });
const base = { epochs: 2, batchSize: 8, lr: 0.02, adapterDropout: 0, dropPath: 0, seed: 3 };
const data = halvesDataset(16, 16, 7);
const FACTOR = 'blocks.1.mlp.fc2.snell_A';

let model: VisionTransformer;
let initial: TensorMap;

const values = (state: TensorMap, name: string) => Array.from(state.get(name)?.data ?? []);
const distance = (state: TensorMap, name: string) =>
  Math.sqrt(values(state, name).reduce((s, v, i) => s + (v - (initial.get(name)?.data[i] ?? 0)) ** 2, 0));

beforeAll(async () => {
  await useBackend('wasm');
  const folder = await loadBackboneFolder(FIXTURE);
  model = VisionTransformer.fromTensors(folder.config, folder.tensors);
  initial = createTrainables(model, sparse, { numClasses: 2, seed: 1 });
});

afterAll(() => model.dispose());

describeOnBackends('train() short-run options', () => {
  it('is bit-identical to the plain run with every option at its default', async () => {
    const plain = await train({ model, data, initial, snell: sparse, config: base });
    const explicit = await train({
      model,
      data,
      initial,
      snell: sparse,
      config: { ...base, factorLrScale: 1, denseWarmupEpochs: 0, sparsityRampEpochs: 0 },
    });
    for (const name of initial.keys()) expect(values(explicit.state, name)).toEqual(values(plain.state, name));
  });

  it('moves the factors further with factorLrScale, from the same first step of the head', async () => {
    const plain = await train({ model, data, initial, snell: sparse, config: { ...base, maxSteps: 1 } });
    const scaled = await train({ model, data, initial, snell: sparse, config: { ...base, maxSteps: 1, factorLrScale: 5 } });
    // one Adam step moves each weight by about its rate: the factor 5× further, the head bias equally
    expect(distance(scaled.state, FACTOR) / distance(plain.state, FACTOR)).toBeCloseTo(5, 1);
    expect(values(scaled.state, 'head.bias')).toEqual(values(plain.state, 'head.bias'));
  });

  it('trains dense KLoRA throughout when the dense warm-up covers the run', async () => {
    const dense = resolveSnellConfig({ ...sparse, sparsity: 0 });
    const klora = await train({ model, data, initial, snell: dense, config: base });
    const warm = await train({ model, data, initial, snell: sparse, config: { ...base, denseWarmupEpochs: 2 } });
    const plain = await train({ model, data, initial, snell: sparse, config: base });
    expect(values(warm.state, FACTOR)).toEqual(values(klora.state, FACTOR));
    expect(values(warm.state, FACTOR)).not.toEqual(values(plain.state, FACTOR));
  });

  it('switches sparsity on after the dense warm-up', async () => {
    const dense = resolveSnellConfig({ ...sparse, sparsity: 0 });
    const klora = await train({ model, data, initial, snell: dense, config: base });
    const warm = await train({ model, data, initial, snell: sparse, config: { ...base, denseWarmupEpochs: 1 } });
    expect(values(warm.state, FACTOR)).not.toEqual(values(klora.state, FACTOR));
  });

  it('changes the run with a sparsity ramp', async () => {
    const plain = await train({ model, data, initial, snell: sparse, config: base });
    const ramp = await train({ model, data, initial, snell: sparse, config: { ...base, sparsityRampEpochs: 1 } });
    expect(values(ramp.state, FACTOR)).not.toEqual(values(plain.state, FACTOR));
  });
}, { backends: ['wasm'] });
