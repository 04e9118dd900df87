import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { resolveSnellConfig } from '@fedsnell/snell';
import { VisionTransformer } from './model';
import { createFullTrainables, createTrainables } from './trainables';
import { tinyBackbone } from './tiny-backbone.testing';
import { describeOnBackends } from '@fedsnell/backends/testing';

describe('createTrainables', () => {
  let model: VisionTransformer;
  const snell = resolveSnellConfig({ rank: 4, heads: 2 });
  beforeAll(async () => {
    await useBackend('cpu');
    const { config, tensors } = tinyBackbone();
    model = VisionTransformer.fromTensors(config, tensors);
  });
  afterAll(() => model.dispose());

  it('makes A, B per module, a head and the class token', () => {
    const state = createTrainables(model, snell, { numClasses: 5, seed: 1 });
    expect([...state.keys()].slice(0, 2)).toEqual(['blocks.0.attn.q.snell_A', 'blocks.0.attn.q.snell_B']);
    expect(state.size).toBe(6 * 2 + 3);
    expect(state.get('blocks.0.mlp.fc1.snell_A')!.shape).toEqual([2, 8, 2]);
    expect(state.get('blocks.0.mlp.fc1.snell_B')!.shape).toEqual([2, 16, 2]);
    expect(state.get('head.weight')!.shape).toEqual([5, 8]);
  });

  it('uses the reference init bound 1/√(in·d)', () => {
    const a = state().get('blocks.0.mlp.fc2.snell_A')!.data; // in 16, d 2
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(32));
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.8 / Math.sqrt(32));
  });

  it('initialises the head as the reference: trunc_normal(0.02), zero bias', () => {
    const s = createTrainables(model, snell, { numClasses: 50, seed: 1 });
    const w = s.get('head.weight')!.data;
    const std = Math.sqrt(w.reduce((acc, v) => acc + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect([...s.get('head.bias')!.data].every((v) => v === 0)).toBe(true);
  });

  it('offers the PyTorch Linear default for the head', () => {
    const s = createTrainables(model, snell, { numClasses: 50, seed: 1, headInit: 'pytorch' });
    const bound = 1 / Math.sqrt(8);
    expect(Math.max(...s.get('head.weight')!.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...s.get('head.weight')!.data.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...s.get('head.bias')!.data.map(Math.abs))).toBeGreaterThan(0);
  });

  it('copies the backbone class token', () => {
    const cls = model.backboneTensor('cls_token');
    expect([...state().get('cls_token')!.data]).toEqual([...cls.dataSync()]);
    cls.dispose();
  });

  it('is deterministic in the seed', () => {
    expect(state(2).get('blocks.0.attn.k.snell_B')!.data).toEqual(state(2).get('blocks.0.attn.k.snell_B')!.data);
    expect(state(2).get('blocks.0.attn.k.snell_B')!.data).not.toEqual(state(3).get('blocks.0.attn.k.snell_B')!.data);
  });

  it('adapts only the targets', () => {
    const s = createTrainables(model, snell, { numClasses: 2, seed: 1, targets: ['attn.v', 'blocks.0.mlp.fc2'] });
    expect([...s.keys()].filter((n) => n.includes('snell_A'))).toEqual(['blocks.0.attn.v.snell_A', 'blocks.0.mlp.fc2.snell_A']);
  });

  it('rejects an unknown target', () => {
    expect(() => createTrainables(model, snell, { numClasses: 2, seed: 1, targets: ['blocks.4.attn.q'] })).toThrow(
      "targets passed to createTrainables() must be module kinds (attn.q, attn.k, attn.v, attn.proj, mlp.fc1, mlp.fc2) or names like 'blocks.0.attn.q' below depth 1 but got 'blocks.4.attn.q'",
    );
  });

  it('rejects zero classes', () => {
    expect(() => createTrainables(model, snell, { numClasses: 0, seed: 1 })).toThrow('numClasses passed to createTrainables() must be a positive integer but got 0');
  });

  function state(seed = 1) {
    return createTrainables(model, snell, { numClasses: 5, seed });
  }
});

describeOnBackends('createFullTrainables', () => {
  it('copies every backbone tensor in timm layout and adds a new head', () =>
    tf.tidy(() => {
      const { config, tensors } = tinyBackbone();
      const model = VisionTransformer.fromTensors(config, tensors);
      const state = createFullTrainables(model, { numClasses: 4, seed: 1 });
      expect(state.get('blocks.0.attn.qkv.weight')!.data).toEqual(tensors.get('blocks.0.attn.qkv.weight')!.data);
      expect(state.get('patch_embed.proj.weight')!.shape).toEqual([8, 3, 4, 4]);
      expect(state.get('patch_embed.proj.weight')!.data).toEqual(tensors.get('patch_embed.proj.weight')!.data);
      expect(state.get('head.weight')!.shape).toEqual([4, 8]);
      expect(state.size).toBe(tensors.size);
      model.dispose();
    }));
}, { backends: ['cpu'] });
