import { resolveVitConfig } from './config';
import { initVitTensors } from './init';
import { VisionTransformer } from './model';
import { vitTensorShapes } from './weights';
import { tinyConfigJson } from './tiny-backbone.testing';

const config = resolveVitConfig(tinyConfigJson({ embed_dim: 32, depth: 2, num_heads: 2, mlp_ratio: 4 }));

function stats(data: Float32Array): { mean: number; std: number; maxAbs: number } {
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  const std = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length);
  return { mean, std, maxAbs: Math.max(...data.map(Math.abs)) };
}

describe('initVitTensors', () => {
  const tensors = initVitTensors(config, 3);

  it('gives every tensor the model needs, with its shape', () => {
    const shapes = vitTensorShapes(config);
    expect([...tensors.keys()]).toEqual([...shapes.keys()]);
    for (const [name, shape] of shapes) expect(tensors.get(name)?.shape).toEqual(shape);
    VisionTransformer.fromTensors(config, tensors).dispose();
  });

  it('draws linear weights and pos_embed from N(0, 0.02²)', () => {
    const fc1 = stats(tensors.get('blocks.1.mlp.fc1.weight')!.data);
    expect(Math.abs(fc1.mean)).toBeLessThan(0.002);
    expect(fc1.std).toBeGreaterThan(0.018);
    expect(fc1.std).toBeLessThan(0.022);
    expect(stats(tensors.get('pos_embed')!.data).std).toBeGreaterThan(0.015);
    expect(stats(tensors.get('head.weight')!.data).std).toBeGreaterThan(0.015);
  });

  it('zeroes biases and sets LayerNorm to the identity', () => {
    for (const name of ['blocks.0.attn.qkv.bias', 'blocks.1.mlp.fc2.bias', 'head.bias', 'norm.bias', 'blocks.0.norm1.bias']) {
      expect(stats(tensors.get(name)!.data).maxAbs).toBe(0);
    }
    for (const name of ['blocks.0.norm1.weight', 'blocks.1.norm2.weight', 'norm.weight']) {
      expect([...new Set(tensors.get(name)!.data)]).toEqual([1]);
    }
  });

  it("keeps the patch convolution in PyTorch's U(±1/√fan_in) and cls_token near zero", () => {
    const bound = 1 / Math.sqrt(3 * config.patchSize * config.patchSize);
    const w = stats(tensors.get('patch_embed.proj.weight')!.data);
    expect(w.maxAbs).toBeLessThanOrEqual(bound);
    expect(w.maxAbs).toBeGreaterThan(0.9 * bound);
    expect(stats(tensors.get('cls_token')!.data).maxAbs).toBeLessThan(1e-5);
  });

  it('is the same for the same seed and differs for another', () => {
    const again = initVitTensors(config, 3);
    const other = initVitTensors(config, 4);
    expect(again.get('blocks.0.attn.proj.weight')!.data).toEqual(tensors.get('blocks.0.attn.proj.weight')!.data);
    expect(other.get('blocks.0.attn.proj.weight')!.data).not.toEqual(tensors.get('blocks.0.attn.proj.weight')!.data);
  });
});
