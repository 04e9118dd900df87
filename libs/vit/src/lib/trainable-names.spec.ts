import * as tf from '@tensorflow/tfjs';
import { resolveSnellConfig } from '@fedsnell/snell';
import { resolveVitConfig } from './config';
import { checkTrainables } from './trainable-names';
import { tinyConfigJson } from './tiny-backbone.testing';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('checkTrainables', () => {
  const config = resolveVitConfig(tinyConfigJson());
  const snell = resolveSnellConfig({ rank: 4, heads: 2 });

  it('accepts factors, a new head and backbone tensors', () =>
    tf.tidy(() => {
      const t = new Map<string, tf.Tensor>([
        ['blocks.0.mlp.fc2.snell_A', tf.zeros([2, 16, 2])],
        ['blocks.0.mlp.fc2.snell_B', tf.zeros([2, 8, 2])],
        ['head.weight', tf.zeros([7, 8])],
        ['head.bias', tf.zeros([7])],
        ['blocks.0.norm1.weight', tf.zeros([8])],
      ]);
      expect(() => checkTrainables(config, t, snell)).not.toThrow();
    }));

  it('rejects a factor beyond the depth', () =>
    tf.tidy(() => {
      const t = new Map<string, tf.Tensor>([['blocks.1.attn.q.snell_A', tf.zeros([2, 8, 2])]]);
      expect(() => checkTrainables(config, t, snell)).toThrow("'blocks.1.attn.q.snell_A' names no adaptable module of vit_tiny_patch16_224 (depth 1)");
    }));

  it('rejects a backbone tensor of the wrong shape', () =>
    tf.tidy(() => {
      const t = new Map<string, tf.Tensor>([['pos_embed', tf.zeros([1, 4, 8])]]);
      expect(() => checkTrainables(config, t, undefined)).toThrow("'pos_embed' has shape [1,4,8] but needs [1,5,8]");
    }));

  it('rejects a mask of the wrong shape', () =>
    tf.tidy(() => {
      const t = new Map<string, tf.Tensor>([['norm.weight', tf.zeros([8])]]);
      const m = new Map<string, tf.Tensor>([['norm.weight', tf.zeros([4])]]);
      expect(() => checkTrainables(config, t, undefined, m)).toThrow("gradientMasks passed to VisionTransformer.forward(): 'norm.weight' has shape [4] but its trainable is [8]");
    }));
}, { backends: ['cpu'] });
