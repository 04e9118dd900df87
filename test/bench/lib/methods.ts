import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createRng, resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import { createFullTrainables, createTrainables, type VisionTransformer } from '@fedsnell/vit';

export type MethodName = 'snell' | 'lora' | 'full' | 'mask';
export const METHODS: readonly MethodName[] = ['snell', 'lora', 'full', 'mask'];

export interface MethodSetup {
  initial: TensorMap;
  snell?: SnellConfig;
  /** fixed 0/1 gradient masks (mask-based sparse tuning); the caller disposes them */
  gradientMasks?: Map<string, tf.Tensor>;
  describe: string;
}

const MASKED = /^blocks\.\d+\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.weight$/;

/**
 * The trainable state of each method. Mask-based sparse tuning (GPS-style) trains the same four full
 * weight matrices per block that SNELL adapts, under fixed random masks keeping 1 − sparsity of the
 * entries (the density SNELL keeps), plus head and cls_token like SNELL.
 */
export function setupMethod(method: MethodName, model: VisionTransformer, opts: { rank: number; sparsity: number; heads: number; classes: number }): MethodSetup {
  const base = { numClasses: opts.classes, seed: 3 };
  switch (method) {
    case 'snell': {
      const snell = resolveSnellConfig({ kernel: 'distance', rank: opts.rank, heads: opts.heads, sparsity: opts.sparsity });
      return { initial: createTrainables(model, snell, base), snell, describe: `distance kernel p=2, rank ${opts.rank}, heads ${opts.heads}, sparsity ${opts.sparsity}, 6 adapters per block` };
    }
    case 'lora': {
      const snell = resolveSnellConfig({ kernel: 'linear', rank: opts.rank, heads: 1, sparsity: 0 });
      return { initial: createTrainables(model, snell, base), snell, describe: `linear kernel (dense LoRA), rank ${opts.rank}, 6 adapters per block` };
    }
    case 'full':
      return { initial: createFullTrainables(model, base), describe: 'every backbone tensor trainable, new head' };
    case 'mask': {
      const full = createFullTrainables(model, base);
      const initial: TensorMap = new Map([...full].filter(([name]) => MASKED.test(name) || name.startsWith('head.') || name === 'cls_token'));
      const rng = createRng(11);
      const gradientMasks = new Map<string, tf.Tensor>();
      for (const [name, t] of initial) {
        if (!MASKED.test(name)) continue;
        const m = new Float32Array(t.data.length);
        for (let i = 0; i < m.length; i++) m[i] = rng() >= opts.sparsity ? 1 : 0;
        gradientMasks.set(name, tf.tensor(m, t.shape));
      }
      return {
        initial,
        gradientMasks,
        describe: `qkv/proj/fc1/fc2 full weights of every block + head + cls_token, fixed random float32 0/1 gradient masks at density ${(1 - opts.sparsity).toFixed(2)}`,
      };
    }
  }
}
