import type { TensorMap } from '@fedsnell/tensor-io';
import { createRng } from '@fedsnell/snell';
import { resolveVitConfig, vitTensorShapes } from '@fedsnell/vit';

/** config.json of a tiny random ViT (8×8 images, patch 4, embed 8, one block, two classes). */
export function tinyConfigJson(): Record<string, unknown> {
  return {
    architecture: 'vit_tiny_patch16_224',
    num_classes: 2,
    model_args: { img_size: 8, patch_size: 4, embed_dim: 8, depth: 1, num_heads: 2, mlp_ratio: 2, num_classes: 2 },
    pretrained_cfg: { input_size: [3, 8, 8], mean: [0, 0, 0], std: [1, 1, 1] },
  };
}

/** Seeded random weights for tinyConfigJson() (uniform ±0.5, LayerNorm gains around 1). */
export function tinyBackboneSource(seed = 1): { configJson: Record<string, unknown>; tensors: TensorMap } {
  const configJson = tinyConfigJson();
  const rng = createRng(seed);
  const tensors: TensorMap = new Map();
  for (const [name, shape] of vitTensorShapes(resolveVitConfig(configJson))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const gain = /norm\d?\.weight$/.test(name) ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = gain + (rng() - 0.5);
    tensors.set(name, { shape, data });
  }
  return { configJson, tensors };
}
