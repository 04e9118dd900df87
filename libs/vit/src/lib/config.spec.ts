import { resolveVitConfig, vitArchitecture } from './config';

const tinyJson = {
  architecture: 'vit_tiny_patch16_224',
  num_classes: 5,
  model_args: { img_size: 16, patch_size: 4, embed_dim: 32, depth: 2, num_heads: 2, mlp_ratio: 4, num_classes: 5 },
  pretrained_cfg: { input_size: [3, 16, 16], mean: [0, 0, 0], std: [1, 1, 1], num_classes: 5 },
};

describe('vitArchitecture', () => {
  it('knows vit_base_patch16_224', () => {
    expect(vitArchitecture('vit_base_patch16_224')).toMatchObject({ embedDim: 768, depth: 12, numHeads: 12, imgSize: 224, patchSize: 16 });
  });

  it('knows the 384 variants', () => {
    expect(vitArchitecture('vit_small_patch16_384')).toMatchObject({ embedDim: 384, depth: 12, numHeads: 6, imgSize: 384 });
  });

  it('knows ViT-L/14 and ViT-B/8', () => {
    expect(vitArchitecture('vit_large_patch14_224')).toMatchObject({ embedDim: 1024, depth: 24, numHeads: 16, patchSize: 14 });
    expect(vitArchitecture('vit_base_patch8_224')).toMatchObject({ patchSize: 8 });
  });

  it('strips the pretrained tag', () => {
    expect(vitArchitecture('vit_tiny_patch16_224.augreg_in21k_ft_in1k')).toMatchObject({
      architecture: 'vit_tiny_patch16_224', tag: 'augreg_in21k_ft_in1k', embedDim: 192, numHeads: 3,
    });
  });

  it('rejects an unknown name, listing known ones', () => {
    expect(() => vitArchitecture('vit_small_patch14_dinov2')).toThrow(/unknown architecture 'vit_small_patch14_dinov2'; known: vit_tiny_patch16_224/);
  });
});

describe('resolveVitConfig', () => {
  it('applies model_args overrides', () => {
    const c = resolveVitConfig(tinyJson);
    expect(c).toMatchObject({ imgSize: [16, 16], patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, mlpHidden: 128, numClasses: 5, numPatches: 16, numTokens: 17, qkvBias: true });
  });

  it('reads pretrained_cfg', () => {
    const c = resolveVitConfig({ ...tinyJson, pretrained_cfg: { ...tinyJson.pretrained_cfg, crop_pct: 0.9, interpolation: 'bicubic' } });
    expect(c).toMatchObject({ inputSize: [3, 16, 16], mean: [0, 0, 0], std: [1, 1, 1], cropPct: 0.9, interpolation: 'bicubic' });
  });

  it('defaults to the architecture, 1000 classes and the inception mean', () => {
    const c = resolveVitConfig({ architecture: 'vit_base_patch16_384' });
    expect(c).toMatchObject({ embedDim: 768, imgSize: [384, 384], numClasses: 1000, inputSize: [3, 384, 384], mean: [0.5, 0.5, 0.5] });
  });

  it('accepts a rectangular img_size', () => {
    expect(resolveVitConfig({ architecture: 'vit_tiny_patch16_224', model_args: { img_size: [32, 64] } }).numPatches).toBe(8);
  });

  it('rejects an unknown architecture', () => {
    expect(() => resolveVitConfig({ architecture: 'resnet50' })).toThrow(/^resolveVitConfig\(\): unknown architecture 'resnet50'/);
  });

  it('rejects a missing architecture', () => {
    expect(() => resolveVitConfig({})).toThrow('resolveVitConfig(): architecture must be a string but got undefined');
  });

  it('rejects a non-integer depth', () => {
    expect(() => resolveVitConfig({ architecture: 'vit_tiny_patch16_224', model_args: { depth: 2.5 } })).toThrow(
      'resolveVitConfig(): model_args.depth must be a positive integer but got 2.5',
    );
  });

  it('rejects global_pool avg', () => {
    expect(() => resolveVitConfig({ architecture: 'vit_tiny_patch16_224', model_args: { global_pool: 'avg' } })).toThrow(
      'model_args.global_pool = "avg" is not supported (only "token")',
    );
  });

  it('rejects unknown model_args', () => {
    expect(() => resolveVitConfig({ architecture: 'vit_tiny_patch16_224', model_args: { act_layer: 'relu' } })).toThrow(/model_args.act_layer is not supported/);
  });

  it('rejects input_size contradicting img_size', () => {
    expect(() => resolveVitConfig({ ...tinyJson, pretrained_cfg: { input_size: [3, 224, 224] } })).toThrow(
      'pretrained_cfg.input_size [3,224,224] contradicts img_size 16x16',
    );
  });

  it('rejects contradicting num_classes', () => {
    expect(() => resolveVitConfig({ ...tinyJson, num_classes: 10 })).toThrow('num_classes = 10 contradicts model_args.num_classes = 5');
  });

  it('rejects heads that do not divide embed_dim', () => {
    expect(() => resolveVitConfig({ architecture: 'vit_tiny_patch16_224', model_args: { num_heads: 5 } })).toThrow(
      'embed_dim (192) must divide evenly by num_heads (5)',
    );
  });

  it('rejects a bad mean', () => {
    expect(() => resolveVitConfig({ ...tinyJson, pretrained_cfg: { mean: [0, 0] } })).toThrow('pretrained_cfg.mean must be an array of 3 finite numbers but got [0,0]');
  });
});
