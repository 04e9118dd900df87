import { useBackend } from '@fedsnell/backends';
import { describeOnBackends } from '@fedsnell/backends/testing';
import { resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createTrainables, VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { resolveTrainerConfig } from './config';
import { ABSENT_CLASS_OFFSET, logitOffsets } from './logit-adjustment';
import { halvesDataset } from './testing';
import { train } from './train';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;
const snell = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });
// no weight decay, so a head row without gradient keeps its exact value
const base = { epochs: 2, batchSize: 4, lr: 0.02, weightDecay: 0, adapterDropout: 0, dropPath: 0, seed: 5 };

describe('logitOffsets()', () => {
  it('is τ·log of each class share, and takes absent classes out of the softmax', () => {
    const offsets = logitOffsets(Int32Array.from([0, 0, 0, 2]), 3, 1) as Float32Array;
    expect(offsets[0]).toBeCloseTo(Math.log(0.75), 6);
    expect(offsets[1]).toBe(ABSENT_CLASS_OFFSET);
    expect(offsets[2]).toBeCloseTo(Math.log(0.25), 6);
    expect((logitOffsets(Int32Array.from([0, 0, 0, 2]), 3, 0.5) as Float32Array)[2]).toBeCloseTo(0.5 * Math.log(0.25), 6);
  });

  it('is off at τ = 0 (the plain cross-entropy)', () => {
    expect(logitOffsets(Int32Array.from([0, 1]), 2, 0)).toBeUndefined();
  });

  it('names a label outside the class range', () => {
    expect(() => logitOffsets(Int32Array.from([0, 3]), 2, 1)).toThrow('logitOffsets(): label 3 at position 1 is outside [0, 2)');
  });

  it('is a trainer option that must be a non-negative number', () => {
    expect(resolveTrainerConfig().logitAdjustment).toBe(0);
    expect(() => resolveTrainerConfig({ logitAdjustment: -1 })).toThrow('trainer logitAdjustment must be a non-negative number but got -1');
    expect(() => resolveTrainerConfig({ logitAdjustment: Number.NaN })).toThrow('trainer logitAdjustment must be a non-negative number');
  });
});

describeOnBackends('train() with logit adjustment', () => {
  let model: VisionTransformer;
  let initial: TensorMap;
  const values = (state: TensorMap, name: string) => Array.from(state.get(name)?.data ?? []);
  // a third class ('none') that this client holds no example of
  const twoOfThree = { ...halvesDataset(16, 16, 7), classes: ['left', 'right', 'none'] };

  beforeAll(async () => {
    await useBackend('wasm');
    const folder = await loadBackboneFolder(FIXTURE);
    model = VisionTransformer.fromTensors(folder.config, folder.tensors);
    initial = createTrainables(model, snell, { numClasses: 3, seed: 1 });
  });

  afterAll(() => model.dispose());

  it('leaves the head row and bias of a class the client never saw exactly where they were', async () => {
    const adjusted = await train({ model, data: twoOfThree, initial, snell, config: { ...base, logitAdjustment: 1 } });
    const plain = await train({ model, data: twoOfThree, initial, snell, config: base });
    const d = model.config.embedDim;
    const row2 = (state: TensorMap) => values(state, 'head.weight').slice(2 * d, 3 * d);
    expect(row2(adjusted.state)).toEqual(row2(initial));
    expect(values(adjusted.state, 'head.bias')[2]).toBe(values(initial, 'head.bias')[2]);
    // the plain loss pushes the unseen class down, and the adapter still trains under the adjusted one
    expect(row2(plain.state)).not.toEqual(row2(initial));
    expect(values(plain.state, 'head.bias')[2]).toBeLessThan(values(initial, 'head.bias')[2]);
    expect(values(adjusted.state, 'blocks.1.mlp.fc2.snell_A')).not.toEqual(values(initial, 'blocks.1.mlp.fc2.snell_A'));
  });

  it('is the plain run at τ = 0, bit for bit', async () => {
    const data = { ...halvesDataset(12, 16, 3), classes: ['left', 'right', 'none'] };
    const explicit = await train({ model, data, initial, snell, config: { ...base, logitAdjustment: 0 } });
    const plain = await train({ model, data, initial, snell, config: base });
    for (const name of initial.keys()) expect(values(explicit.state, name)).toEqual(values(plain.state, name));
  });
});
