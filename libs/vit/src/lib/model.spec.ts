import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { useBackend } from '@fedsnell/backends';
import { loadBackboneFolder } from '../node';
import { resolveSnellConfig } from '@fedsnell/snell';
import { VisionTransformer } from './model';
import { tinyBackbone, tinyInput } from './tiny-backbone.testing';
import { describeOnBackends } from '@fedsnell/backends/testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;

interface Reference {
  input_nchw: number[][][][];
  logits: number[][];
}

function maxRelError(actual: number[][], expected: number[][]): number {
  const scale = Math.max(...expected.flat().map(Math.abs));
  return Math.max(...actual.flat().map((v, i) => Math.abs(v - expected.flat()[i]))) / scale;
}

describeOnBackends('VisionTransformer', (backend) => {
  let model: VisionTransformer;
  const reference = JSON.parse(readFileSync(`${FIXTURE}/reference.json`, 'utf8')) as Reference;

  beforeAll(async () => {
    await useBackend(backend as 'cpu' | 'wasm');
    const folder = await loadBackboneFolder(FIXTURE);
    model = VisionTransformer.fromTensors(folder.config, folder.tensors);
  });
  afterAll(() => model.dispose());

  it('reproduces the timm fixture logits', () => {
    const x = tf.tensor4d(reference.input_nchw);
    const logits = model.forward(x);
    expect(logits.shape).toEqual([reference.logits.length, 5]);
    const err = maxRelError(logits.arraySync(), reference.logits);
    expect(err).toBeLessThan(1e-4);
    tf.dispose([x, logits]);
  });

  it('leaks no tensors', () => {
    const x = tf.tensor4d(reference.input_nchw);
    const before = tf.memory().numTensors;
    model.forward(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('VisionTransformer errors', () => {
  let model: VisionTransformer;
  let x: tf.Tensor4D;
  const snell = resolveSnellConfig({ rank: 2 });

  beforeAll(async () => {
    await useBackend('cpu');
    const { config, tensors } = tinyBackbone();
    model = VisionTransformer.fromTensors(config, tensors);
    const input = tinyInput(1);
    x = tf.tensor4d(input.data, input.shape);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('reports unused tensors', () => {
    const { config, tensors } = tinyBackbone();
    tensors.set('extra.thing', { shape: [1], data: new Float32Array(1) });
    const m = VisionTransformer.fromTensors(config, tensors);
    expect(m.unusedTensors).toEqual(['extra.thing']);
    m.dispose();
  });

  it('rejects a missing tensor', () => {
    const { config, tensors } = tinyBackbone();
    tensors.delete('pos_embed');
    expect(() => VisionTransformer.fromTensors(config, tensors)).toThrow("VisionTransformer.fromTensors(): missing tensor 'pos_embed' (expected shape [1,5,8]");
  });

  it('rejects an input of the wrong size', () => {
    const bad = tf.zeros([1, 3, 16, 16]) as tf.Tensor4D;
    expect(() => model.forward(bad)).toThrow('input passed to VisionTransformer.forward() must have shape [n, 3, 8, 8] but got [1,3,16,16]');
    bad.dispose();
  });

  it('rejects an unknown trainable', () => {
    const t = new Map([['blocks.0.attn.o.weight', tf.zeros([8, 8])]]);
    expect(() => model.forward(x, { trainables: t })).toThrow("'blocks.0.attn.o.weight' is neither an adapter factor nor a tensor of vit_tiny_patch16_224");
    tf.dispose([...t.values()]);
  });

  it('rejects a factor without snell', () => {
    const t = new Map([['blocks.0.attn.q.snell_A', tf.zeros([2, 8, 1])], ['blocks.0.attn.q.snell_B', tf.zeros([2, 8, 1])]]);
    expect(() => model.forward(x, { trainables: t })).toThrow("snell passed to VisionTransformer.forward() is required with adapter factor 'blocks.0.attn.q.snell_A'");
    tf.dispose([...t.values()]);
  });

  it('rejects a factor of the wrong shape', () => {
    const t = new Map([['blocks.0.mlp.fc1.snell_A', tf.zeros([2, 8, 1])], ['blocks.0.mlp.fc1.snell_B', tf.zeros([2, 8, 1])]]);
    expect(() => model.forward(x, { trainables: t, snell })).toThrow("'blocks.0.mlp.fc1.snell_B' has shape [2,8,1] but needs [2,16,1]");
    tf.dispose([...t.values()]);
  });

  it('rejects a factor without its partner', () => {
    const t = new Map([['blocks.0.attn.q.snell_A', tf.zeros([2, 8, 1])]]);
    expect(() => model.forward(x, { trainables: t, snell })).toThrow("'blocks.0.attn.q.snell_A' needs 'blocks.0.attn.q.snell_B' too");
    tf.dispose([...t.values()]);
  });

  it('rejects a head without its bias', () => {
    const t = new Map([['head.weight', tf.zeros([2, 8])]]);
    expect(() => model.forward(x, { trainables: t })).toThrow("'head.weight' and 'head.bias' must be given together");
    tf.dispose([...t.values()]);
  });

  it('rejects dropout without an rng', () => {
    expect(() => model.forward(x, { training: true, dropPath: 0.1 })).toThrow(
      'rng passed to VisionTransformer.forward() is required when training with adapterDropout or dropPath > 0',
    );
  });

  it('rejects a mask for a tensor that is not trainable', () => {
    const m = new Map([['norm.weight', tf.ones([8])]]);
    expect(() => model.forward(x, { gradientMasks: m })).toThrow("gradientMasks passed to VisionTransformer.forward(): 'norm.weight' is not among the trainables");
    tf.dispose([...m.values()]);
  });

  it('refuses to run after dispose', () => {
    const { config, tensors } = tinyBackbone();
    const m = VisionTransformer.fromTensors(config, tensors);
    m.dispose();
    expect(() => m.forward(x)).toThrow('VisionTransformer.forward(): the model was disposed');
  });

  it('returns features without a head', () => {
    const { config, tensors } = tinyBackbone(1, { num_classes: 0 });
    const m = VisionTransformer.fromTensors(config, tensors);
    const y = m.forward(x);
    expect(y.shape).toEqual([1, 8]);
    tf.dispose(y);
    m.dispose();
  });
});
