import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { useBackend } from '@fedsnell/backends';
import { VisionTransformer } from './model';
import { createFullTrainables } from './trainables';
import { tinyBackbone, tinyInput } from './tiny-backbone.testing';
import { describeOnBackends } from '@fedsnell/backends/testing';

function toTf(state: TensorMap): Map<string, tf.Tensor> {
  return new Map([...state].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));
}

describeOnBackends('full and mask-based tuning', (backend) => {
  let model: VisionTransformer;
  let state: TensorMap;
  let x: tf.Tensor4D;
  let g: tf.Tensor2D;

  beforeAll(async () => {
    await useBackend(backend as 'cpu' | 'wasm');
    const { config, tensors } = tinyBackbone(4);
    model = VisionTransformer.fromTensors(config, tensors);
    state = createFullTrainables(model, { numClasses: 3, seed: 2 });
    const input = tinyInput(2);
    x = tf.tensor4d(input.data, input.shape);
    g = tf.tensor2d([[1, -1, 2], [0.5, 0.5, -1]]);
  });
  afterAll(() => {
    model.dispose();
    tf.dispose([x, g]);
  });

  function gradsOf(names: string[], masks?: Map<string, tf.Tensor>, checkpoint = false): { grads: tf.Tensor[]; release: () => void } {
    const trainables = toTf(state);
    const grads = tf.grads((...ts: tf.Tensor[]) => {
      const replaced = new Map(trainables);
      names.forEach((n, i) => replaced.set(n, ts[i]));
      return tf.sum(tf.mul(model.forward(x, { trainables: replaced, gradientMasks: masks, checkpoint }), g));
    })(names.map((n) => trainables.get(n)!));
    return { grads, release: () => tf.dispose([...grads, ...trainables.values()]) };
  }

  it('gives the frozen forward when nothing changed', () => {
    const trainables = toTf(state);
    const head = new Map([...trainables].filter(([n]) => n.startsWith('head.')));
    const full = model.forward(x, { trainables });
    const frozen = model.forward(x, { trainables: head });
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(full, frozen))).dataSync()[0]);
    expect(err).toBeLessThan(1e-5);
    tf.dispose([full, frozen, ...trainables.values()]);
  });

  it('matches finite differences for a backbone weight', () => {
    const name = 'blocks.0.mlp.fc1.weight';
    const { grads, release } = gradsOf([name, 'patch_embed.proj.weight']);
    const analytic = grads[0].dataSync()[10];
    const lossWith = (delta: number): number => {
      const t = state.get(name)!;
      const data = Float32Array.from(t.data);
      data[10] += delta;
      const trainables = toTf(new Map(state).set(name, { shape: t.shape, data }));
      const v = tf.tidy(() => tf.sum(tf.mul(model.forward(x, { trainables }), g)).dataSync()[0]);
      tf.dispose([...trainables.values()]);
      return v;
    };
    const numeric = (lossWith(1e-2) - lossWith(-1e-2)) / 2e-2;
    expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
    expect(Math.max(...grads[1].dataSync().map(Math.abs))).toBeGreaterThan(0);
    release();
  });

  it('multiplies the gradient by the mask', () => {
    const name = 'blocks.0.attn.qkv.weight';
    const maskData = new Float32Array(24 * 8).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const mask = tf.tensor2d(maskData, [24, 8]);
    const plain = gradsOf([name]);
    const masked = gradsOf([name], new Map([[name, mask]]));
    const p = plain.grads[0].dataSync();
    const m = masked.grads[0].dataSync();
    expect([...m]).toEqual([...p].map((v, i) => v * maskData[i]));
    expect(Math.max(...m.map(Math.abs))).toBeGreaterThan(0);
    plain.release();
    masked.release();
    mask.dispose();
  });

  it('gives the same masked gradients with checkpointed blocks', () => {
    const names = ['blocks.0.attn.qkv.weight', 'blocks.0.norm2.bias', 'pos_embed'];
    const mask = tf.tensor2d(new Float32Array(24 * 8).map((_, i) => i % 2), [24, 8]);
    const masks = new Map([[names[0], mask]]);
    const plain = gradsOf(names, masks);
    const ours = gradsOf(names, masks, true);
    ours.grads.forEach((t, i) => {
      const p = plain.grads[i].dataSync();
      t.dataSync().forEach((v, j) => expect(Math.abs(v - p[j])).toBeLessThan(1e-5 * (1 + Math.abs(p[j]))));
    });
    plain.release();
    ours.release();
    mask.dispose();
  });

  it('leaks no tensors over forward and backward', () => {
    const before = tf.memory().numTensors;
    gradsOf(['blocks.0.attn.proj.weight', 'pos_embed', 'norm.weight']).release();
    expect(tf.memory().numTensors).toBe(before);
  });
});
