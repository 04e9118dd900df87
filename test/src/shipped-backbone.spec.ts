import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '@fedsnell/backends';
import { preprocessFromPretrained, subset } from '@fedsnell/data';
import { mnistDataset } from '@fedsnell/data/node';
import { sha256Hex } from '@fedsnell/tensor-io';
import { evaluate } from '@fedsnell/train';
import { VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { REPO } from './testing/run-cli';

const DIR = join(REPO, 'models/fmnist-vit');
/** 500 held-out test images, every class 50 times: stride 19 through the class-interleaved test order. */
const SAMPLE = Array.from({ length: 500 }, (_, k) => k * 19);
/** how far the sample's accuracy may fall below the full test set's (the sample is fixed: it is one number) */
const TOLERANCE = 0.03;

interface Recipe {
  dtype: string;
  accuracy: number;
  file: { sha256: string; bytes: number };
  heldOut: { images: number };
}

describe('the shipped Fashion-MNIST backbone (models/fmnist-vit)', () => {
  let recipe: Recipe;

  beforeAll(async () => {
    recipe = JSON.parse(await readFile(join(DIR, 'recipe.json'), 'utf8')) as Recipe;
  });

  it('is the file its recipe describes', async () => {
    const bytes = await readFile(join(DIR, 'model.safetensors'));
    expect(bytes.length).toBe(recipe.file.bytes);
    expect(await sha256Hex(bytes)).toBe(recipe.file.sha256);
    expect(recipe.heldOut.images).toBe(10000);
  });

  it('scores within tolerance of its recipe on a fixed held-out sample', async () => {
    await useBackend('wasm');
    const folder = await loadBackboneFolder(DIR);
    expect(folder.sha256).toBe(recipe.file.sha256);
    const test = mnistDataset({ set: 'fashion-mnist', part: 'test', preprocess: preprocessFromPretrained(folder.config) });
    const sample = subset(test, SAMPLE);
    expect(new Set(sample.labels).size).toBe(10);
    const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
    try {
      const result = await evaluate({ model, data: sample, batchSize: 250 });
      expect(result.count).toBe(500);
      expect(result.accuracy).toBeGreaterThanOrEqual(recipe.accuracy - TOLERANCE);
      expect(result.accuracy).toBeGreaterThanOrEqual(0.87);
    } finally {
      model.dispose();
    }
  }, 60_000);
});
