import type { TensorMap } from '@fedsnell/tensor-io';
import { createRng } from '@fedsnell/snell';
import type { VitConfig } from './config';
import { vitTensorShapes } from './weights';

/** N(0, std²) truncated to [−2, 2] as timm's trunc_normal_ (absolute bounds), by Box–Muller on `rng`. */
export function truncNormal(count: number, std: number, rng: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; ) {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()) * std;
    if (z >= -2 && z <= 2) out[i++] = z;
  }
  return out;
}

function normal(count: number, std: number, rng: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()) * std;
  return out;
}

function uniform(count: number, bound: number, rng: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng() - 1) * bound;
  return out;
}

/**
 * Every tensor of a ViT as timm's VisionTransformer initialises it from scratch (its default
 * `weight_init=''`): pos_embed trunc_normal(std 0.02); cls_token normal(std 1e-6); every Linear
 * (qkv, proj, fc1, fc2, head) weight trunc_normal(std 0.02) and bias 0; LayerNorm weight 1, bias 0;
 * the patch-embedding Conv2d keeps PyTorch's default, U(±1/√fan_in) for weight and bias
 * (fan_in = 3·patch²). Seeded: one generator drawn in `vitTensorShapes` order, so the same seed and
 * config give the same tensors.
 */
export function initVitTensors(config: VitConfig, seed: number): TensorMap {
  const rng = createRng(seed);
  const out: TensorMap = new Map();
  for (const [name, shape] of vitTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'cls_token') data = normal(count, 1e-6, rng);
    else if (name === 'pos_embed') data = truncNormal(count, 0.02, rng);
    else if (name.startsWith('patch_embed.proj.')) data = uniform(count, 1 / Math.sqrt(3 * config.patchSize * config.patchSize), rng);
    else if (/(^|\.)norm\d?\.weight$/.test(name)) data = new Float32Array(count).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(count);
    else data = truncNormal(count, 0.02, rng);
    out.set(name, { shape: [...shape], data });
  }
  return out;
}
