import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { resolveSnellConfig } from '@fedsnell/snell';
import { mergeAdapter, mergedConfigJson } from './merge';
import { describeOnBackends } from '@fedsnell/backends/testing';

// LoRA rank 1, dense: S(ΔW) = a·bᵀ [in, out], so the merge adds b·aᵀ to W [out, in].
const lora = resolveSnellConfig({ kernel: 'linear', rank: 1, sparsity: 0 });
const a = { shape: [1, 2, 1], data: new Float32Array([1, 2]) }; // in = 2
const b = { shape: [1, 2, 1], data: new Float32Array([10, 20]) }; // out = 2

function backbone(): TensorMap {
  return new Map([
    ['blocks.0.attn.qkv.weight', { shape: [6, 2], data: new Float32Array(12) }],
    ['blocks.0.mlp.fc2.weight', { shape: [2, 2], data: new Float32Array([1, 1, 1, 1]) }],
    ['head.weight', { shape: [1, 2], data: new Float32Array([0, 0]) }],
    ['head.bias', { shape: [1], data: new Float32Array([0]) }],
    ['cls_token', { shape: [1, 1, 2], data: new Float32Array([0, 0]) }],
  ]);
}

describeOnBackends('mergeAdapter', () => {
  it('adds S(ΔW)ᵀ to the k rows of qkv', () =>
    tf.tidy(() => {
      const merged = mergeAdapter(backbone(), { config: lora, tensors: new Map([['blocks.0.attn.k.snell_A', a], ['blocks.0.attn.k.snell_B', b]]) });
      expect([...merged.get('blocks.0.attn.qkv.weight')!.data]).toEqual([0, 0, 0, 0, 10, 20, 20, 40, 0, 0, 0, 0]);
    }));

  it('adds S(ΔW)ᵀ to a plain linear weight', () =>
    tf.tidy(() => {
      const merged = mergeAdapter(backbone(), { config: lora, tensors: new Map([['blocks.0.mlp.fc2.snell_A', a], ['blocks.0.mlp.fc2.snell_B', b]]) });
      expect([...merged.get('blocks.0.mlp.fc2.weight')!.data]).toEqual([11, 21, 21, 41]);
    }));

  it('replaces head and cls_token', () =>
    tf.tidy(() => {
      const head = { shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
      const bias = { shape: [3], data: new Float32Array([7, 8, 9]) };
      const cls = { shape: [1, 1, 2], data: new Float32Array([5, 6]) };
      const merged = mergeAdapter(backbone(), { config: lora, tensors: new Map([['head.weight', head], ['head.bias', bias], ['cls_token', cls]]) });
      expect(merged.get('head.weight')!.shape).toEqual([3, 2]);
      expect([...merged.get('head.bias')!.data]).toEqual([7, 8, 9]);
      expect([...merged.get('cls_token')!.data]).toEqual([5, 6]);
    }));

  it('leaves its input unchanged', () =>
    tf.tidy(() => {
      const input = backbone();
      mergeAdapter(input, { config: lora, tensors: new Map([['blocks.0.mlp.fc2.snell_A', a], ['blocks.0.mlp.fc2.snell_B', b]]) });
      expect([...input.get('blocks.0.mlp.fc2.weight')!.data]).toEqual([1, 1, 1, 1]);
    }));

  it('rejects a factor without its partner', () =>
    tf.tidy(() => {
      expect(() => mergeAdapter(backbone(), { config: lora, tensors: new Map([['blocks.0.mlp.fc2.snell_A', a]]) })).toThrow(
        "mergeAdapter(): adapter has 'blocks.0.mlp.fc2.snell_A' without 'blocks.0.mlp.fc2.snell_B'",
      );
    }));

  it('rejects an unknown module', () =>
    tf.tidy(() => {
      expect(() => mergeAdapter(backbone(), { config: lora, tensors: new Map([['blocks.0.attn.o.snell_A', a], ['blocks.0.attn.o.snell_B', b]]) })).toThrow(
        "adapter module 'blocks.0.attn.o' is not an adaptable ViT module",
      );
    }));

  it('rejects factors that do not fit the weight', () =>
    tf.tidy(() => {
      const wide = { shape: [1, 3, 1], data: new Float32Array([1, 2, 3]) };
      expect(() => mergeAdapter(backbone(), { config: lora, tensors: new Map([['blocks.0.mlp.fc2.snell_A', wide], ['blocks.0.mlp.fc2.snell_B', b]]) })).toThrow(
        "'blocks.0.mlp.fc2.weight' must be [2, 3] but is [2,2]",
      );
    }));

  it('rejects unknown adapter tensors', () =>
    tf.tidy(() => {
      expect(() => mergeAdapter(backbone(), { config: lora, tensors: new Map([['pos_embed', a]]) })).toThrow(
        "adapter tensor 'pos_embed' is neither a SNELL factor nor one of head.weight, head.bias, cls_token",
      );
    }));
}, { backends: ['cpu'] });

describe('mergedConfigJson', () => {
  const json = { architecture: 'vit_tiny_patch16_224', num_classes: 5, model_args: { num_classes: 5 }, pretrained_cfg: { num_classes: 5, mean: [0, 0, 0] } };

  it('sets num_classes everywhere', () =>
    tf.tidy(() => {
      const out = mergedConfigJson(json, 3);
      expect(out).toEqual({ ...json, num_classes: 3, model_args: { num_classes: 3 }, pretrained_cfg: { num_classes: 3, mean: [0, 0, 0] } });
      expect(json.num_classes).toBe(5);
    }));

  it('writes label_names', () =>
    tf.tidy(() => {
      expect(mergedConfigJson(json, 2, ['cat', 'dog'])['label_names']).toEqual(['cat', 'dog']);
    }));

  it('rejects a class-name count mismatch', () =>
    tf.tidy(() => {
      expect(() => mergedConfigJson(json, 3, ['cat'])).toThrow('classNames passed to mergedConfigJson() must have 3 entries but got 1');
    }));
});
