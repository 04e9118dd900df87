import { checkVitTensors, vitTensorShapes, adapterModuleShape } from './weights';
import { resolveVitConfig } from './config';
import { tinyBackbone, tinyConfigJson } from './tiny-backbone.testing';

describe('vitTensorShapes', () => {
  it('lists timm names and shapes', () => {
    const { config } = tinyBackbone();
    const shapes = vitTensorShapes(config);
    expect(shapes.get('patch_embed.proj.weight')).toEqual([8, 3, 4, 4]);
    expect(shapes.get('pos_embed')).toEqual([1, 5, 8]);
    expect(shapes.get('blocks.0.attn.qkv.weight')).toEqual([24, 8]);
    expect(shapes.get('blocks.0.mlp.fc1.weight')).toEqual([16, 8]);
    expect(shapes.get('head.weight')).toEqual([3, 8]);
    expect(shapes.size).toBe(4 + 12 + 2 + 2);
  });

  it('omits qkv bias when qkv_bias is false', () => {
    expect(vitTensorShapes(resolveVitConfig(tinyConfigJson({ qkv_bias: false }))).has('blocks.0.attn.qkv.bias')).toBe(false);
  });
});

describe('adapterModuleShape', () => {
  it('gives [in, out] per module', () => {
    const { config } = tinyBackbone();
    expect(adapterModuleShape(config, 'blocks.0.attn.v')).toEqual([8, 8]);
    expect(adapterModuleShape(config, 'blocks.0.mlp.fc1')).toEqual([8, 16]);
    expect(adapterModuleShape(config, 'blocks.0.mlp.fc2')).toEqual([16, 8]);
  });

  it('rejects blocks beyond the depth', () => {
    expect(adapterModuleShape(tinyBackbone().config, 'blocks.1.attn.q')).toBeUndefined();
  });
});

describe('checkVitTensors', () => {
  it('accepts a complete map and reports harmless extras', () => {
    const { config, tensors } = tinyBackbone();
    tensors.set('optimizer.step', { shape: [1], data: new Float32Array(1) });
    expect(checkVitTensors(config, tensors)).toEqual(['optimizer.step']);
  });

  it('rejects a missing tensor', () => {
    const { config, tensors } = tinyBackbone();
    tensors.delete('blocks.0.norm2.bias');
    expect(() => checkVitTensors(config, tensors)).toThrow("missing tensor 'blocks.0.norm2.bias' (expected shape [8]");
  });

  it('rejects a wrong shape', () => {
    const { config, tensors } = tinyBackbone();
    tensors.set('blocks.0.mlp.fc1.weight', { shape: [8, 16], data: new Float32Array(128) });
    expect(() => checkVitTensors(config, tensors)).toThrow("tensor 'blocks.0.mlp.fc1.weight' has shape [8,16] but the config needs [16,8]");
  });

  it('rejects weights of a deeper model', () => {
    const { config, tensors } = tinyBackbone(1, { depth: 2 });
    const shallow = resolveVitConfig(tinyConfigJson({ depth: 1 }));
    expect(config.depth).toBe(2);
    expect(() => checkVitTensors(shallow, tensors)).toThrow("tensor 'blocks.1.norm1.weight' is not part of vit_tiny_patch16_224 with depth 1");
  });

  it('rejects layer-scale weights', () => {
    const { config, tensors } = tinyBackbone();
    tensors.set('blocks.0.ls1.gamma', { shape: [8], data: new Float32Array(8) });
    expect(() => checkVitTensors(config, tensors)).toThrow(/'blocks.0.ls1.gamma' is not part of .* the config contradicts the weights/);
  });
});
