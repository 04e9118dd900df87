import type { TensorMap } from '@fedsnell/tensor-io';
import { createRng } from '@fedsnell/snell';
import { resolveVitConfig, VitConfig } from './config';
import { vitTensorShapes } from './weights';

/** config.json of a tiny random ViT used as a test input (never a pretrained model). */
export function tinyConfigJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: 'vit_tiny_patch16_224',
    num_classes: overrides['num_classes'] ?? 3,
    model_args: { img_size: 8, patch_size: 4, embed_dim: 8, depth: 1, num_heads: 2, mlp_ratio: 2, num_classes: 3, ...overrides },
    pretrained_cfg: { input_size: [3, 8, 8], mean: [0, 0, 0], std: [1, 1, 1] },
  };
}

/** Seeded uniform weights in ±0.5 (LayerNorm gains around 1) for every tensor the config needs. */
export function tinyBackbone(seed = 1, overrides: Record<string, unknown> = {}): { config: VitConfig; tensors: TensorMap } {
  const config = resolveVitConfig(tinyConfigJson(overrides));
  const rng = createRng(seed);
  const tensors: TensorMap = new Map();
  for (const [name, shape] of vitTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const gain = /norm\d?\.weight$/.test(name) ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = gain + (rng() - 0.5);
    tensors.set(name, { shape, data });
  }
  return { config, tensors };
}

/** A seeded NCHW batch [n, 3, size, size] in ±1. */
export function tinyInput(n: number, size = 8, seed = 7): { data: Float32Array; shape: [number, number, number, number] } {
  const rng = createRng(seed);
  const data = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = 2 * rng() - 1;
  return { data, shape: [n, 3, size, size] };
}
