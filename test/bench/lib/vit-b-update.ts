import { createRng, factorNames, initSnellFactors, resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';

/** The SNELL configuration of the ViT-B aggregation benchmarks: rank 8, 2 heads, s = 0.9. */
export const VIT_B_SNELL: SnellConfig = resolveSnellConfig({ rank: 8, heads: 2, sparsity: 0.9 });

export interface AdaptedShape {
  d: number;
  hidden: number;
  depth: number;
}

export const VIT_B_SHAPE: AdaptedShape = { d: 768, hidden: 3072, depth: 12 };
/** test/fixtures/vit-timm-tiny: embed 32, depth 2, mlp 128 */
export const TEST_BACKBONE_SHAPE: AdaptedShape = { d: 32, hidden: 128, depth: 2 };

/**
 * One synthetic client update at ViT scale: reference-initialised SNELL factors of q, k, v, proj,
 * fc1, fc2 in every block (seeded), a 10-class head and cls_token. Aggregation cost does not depend
 * on whether the numbers came from training.
 */
export function vitBState(seed: number, dims: AdaptedShape = VIT_B_SHAPE, snell: SnellConfig = VIT_B_SNELL, classes = 10): TensorMap {
  const { d, hidden, depth } = dims;
  const rng = createRng(seed);
  const state: TensorMap = new Map();
  for (let b = 0; b < depth; b++) {
    for (const [m, inF, outF] of [
      ['attn.q', d, d],
      ['attn.k', d, d],
      ['attn.v', d, d],
      ['attn.proj', d, d],
      ['mlp.fc1', d, hidden],
      ['mlp.fc2', hidden, d],
    ] as const) {
      const { A, B } = initSnellFactors(inF, outF, snell, rng);
      const [nameA, nameB] = factorNames(`blocks.${b}.${m}`);
      state.set(nameA, A).set(nameB, B);
    }
  }
  state.set('head.weight', { shape: [classes, d], data: new Float32Array(classes * d).map(() => (rng() - 0.5) * 0.04) });
  state.set('head.bias', { shape: [classes], data: new Float32Array(classes) });
  state.set('cls_token', { shape: [1, 1, d], data: new Float32Array(d).map(() => (rng() - 0.5) * 0.02) });
  return state;
}
