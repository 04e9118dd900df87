import type { Dataset } from '@fedsnell/data';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createRng } from '@fedsnell/snell';
import { resolveVitConfig, vitTensorShapes, type VitConfig } from '@fedsnell/vit';

export interface BenchModelSpec {
  name: string;
  img: number;
  patch: number;
  embed: number;
  depth: number;
  heads: number;
  classes: number;
}

export const VIT_TI: BenchModelSpec = { name: 'vit-ti-224', img: 224, patch: 16, embed: 192, depth: 12, heads: 3, classes: 10 };
export const VIT_S: BenchModelSpec = { name: 'vit-s-224', img: 224, patch: 16, embed: 384, depth: 12, heads: 6, classes: 10 };
export const DEMO: BenchModelSpec = { name: 'demo-32', img: 32, patch: 4, embed: 64, depth: 4, heads: 2, classes: 10 };

export function configJson(spec: BenchModelSpec): Record<string, unknown> {
  return {
    architecture: 'vit_tiny_patch16_224',
    num_classes: spec.classes,
    model_args: {
      img_size: spec.img,
      patch_size: spec.patch,
      embed_dim: spec.embed,
      depth: spec.depth,
      num_heads: spec.heads,
      mlp_ratio: 4,
      num_classes: spec.classes,
    },
    pretrained_cfg: { input_size: [3, spec.img, spec.img], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  };
}

/**
 * Seeded random weights of the right shapes (a speed benchmark needs no pretrained weights): uniform
 * ±0.05 (about timm's trunc_normal std 0.02 scale), LayerNorm gains 1.
 */
export function randomBackbone(spec: BenchModelSpec, seed = 1): { config: VitConfig; tensors: TensorMap } {
  const config = resolveVitConfig(configJson(spec));
  const rng = createRng(seed);
  const tensors: TensorMap = new Map();
  for (const [name, shape] of vitTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const gain = /norm\d?\.weight$/.test(name) ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = gain + (rng() - 0.5) * 0.1;
    tensors.set(name, { shape, data });
  }
  return { config, tensors };
}

/** A seeded NCHW batch in ±1 and labels i mod classes. */
export function randomBatch(n: number, img: number, classes: number, seed = 7): { x: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(n * 3 * img * img);
  for (let i = 0; i < x.length; i++) x[i] = 2 * rng() - 1;
  return { x, y: Int32Array.from({ length: n }, (_, i) => i % classes) };
}

/** randomBatch as a Dataset of its n images (what `train` reads), classes named '0', '1', …. */
export function randomDataset(n: number, img: number, classes: number, seed = 7): Dataset {
  const { x, y } = randomBatch(n, img, classes, seed);
  const per = 3 * img * img;
  return {
    classes: Array.from({ length: classes }, (_v, i) => String(i)),
    size: n,
    labels: y,
    load: async (indices) => {
      const xs = new Float32Array(indices.length * per);
      indices.forEach((i, k) => xs.set(x.subarray(i * per, (i + 1) * per), k * per));
      return { x: xs, y: Int32Array.from(indices, (i) => y[i]) };
    },
  };
}
