import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { AdamW, DEFAULT_ADAMW, factorLrScaler } from './adamw';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('AdamW', () => {
  it('moves a weight by lr on the first step, whatever the gradient scale', () => {
    // Adam's first step is lr·g/|g| (bias-corrected m/√v = sign(g)) up to ε
    const w = tf.variable(tf.tensor1d([1, 1]), true, 'w');
    const opt = new AdamW(new Map([['w', w]]), { ...DEFAULT_ADAMW, weightDecay: 0 });
    opt.step({ w: tf.tensor1d([10, -0.001]) }, 0.1);
    const values = Array.from(w.dataSync());
    expect(values[0]).toBeCloseTo(0.9, 5);
    expect(values[1]).toBeCloseTo(1.1, 3);
    opt.dispose();
    w.dispose();
  });

  it('decays only the variables it is told to, decoupled from the gradient', () => {
    const a = tf.variable(tf.tensor1d([2]), true, 'blocks.0.attn.q.snell_A');
    const b = tf.variable(tf.tensor1d([2]), true, 'head.bias');
    const opt = new AdamW(
      new Map([
        ['blocks.0.attn.q.snell_A', a],
        ['head.bias', b],
      ]),
      { ...DEFAULT_ADAMW, weightDecay: 0.5 },
    );
    // zero gradients: only the decay moves weights: w·(1 − lr·wd) = 2·(1 − 0.1·0.5) = 1.9
    opt.step({ 'blocks.0.attn.q.snell_A': tf.tensor1d([0]), 'head.bias': tf.tensor1d([0]) }, 0.1);
    expect(a.dataSync()[0]).toBeCloseTo(1.9, 6);
    expect(b.dataSync()[0]).toBeCloseTo(2, 6);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('matches torch.optim.AdamW over three steps', () => {
    // torch 1.13: w = Parameter([0.5]); AdamW([w], lr=0.01, weight_decay=0.1); grads 1, -2, 0.5
    const w = tf.variable(tf.tensor1d([0.5]), true, 'head.weight');
    const opt = new AdamW(new Map([['head.weight', w]]), { ...DEFAULT_ADAMW, weightDecay: 0.1 });
    for (const g of [1, -2, 0.5]) opt.step({ 'head.weight': tf.tensor1d([g]) }, 0.01);
    expect(w.dataSync()[0]).toBeCloseTo(0.4935457704319351, 6);
    opt.dispose();
    w.dispose();
  });

  it('leaks no tensors per step', () => {
    const w = tf.variable(tf.tensor1d([1]), true, 'w');
    const opt = new AdamW(new Map([['w', w]]));
    const g = tf.tensor1d([1]);
    const before = tf.memory().numTensors;
    opt.step({ w: g }, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
    opt.dispose();
    w.dispose();
  });

  it('moves the factors by factorLrScale·lr and the head by lr', () => {
    const a = tf.variable(tf.tensor1d([1]), true, 'blocks.0.attn.q.snell_A');
    const h = tf.variable(tf.tensor1d([1]), true, 'head.bias');
    const opt = new AdamW(
      new Map([
        ['blocks.0.attn.q.snell_A', a],
        ['head.bias', h],
      ]),
      { ...DEFAULT_ADAMW, weightDecay: 0, lrScale: factorLrScaler(10) },
    );
    // first Adam step moves each weight by its own rate: 10·0.01 for the factor, 0.01 for the head
    opt.step({ 'blocks.0.attn.q.snell_A': tf.tensor1d([1]), 'head.bias': tf.tensor1d([1]) }, 0.01);
    expect(a.dataSync()[0]).toBeCloseTo(0.9, 5);
    expect(h.dataSync()[0]).toBeCloseTo(0.99, 5);
    opt.dispose();
    a.dispose();
    h.dispose();
  });

  it('is bit-identical to plain AdamW with factorLrScale 1', () => {
    expect(factorLrScaler(1)).toBeUndefined();
    const run = (lrScale: ((name: string) => number) | undefined) => {
      const w = tf.variable(tf.tensor1d([0.3, -0.7]), true, 'blocks.0.mlp.fc1.snell_B');
      const opt = new AdamW(new Map([['blocks.0.mlp.fc1.snell_B', w]]), { ...DEFAULT_ADAMW, weightDecay: 0.1, lrScale });
      for (const g of [0.5, -1.5]) opt.step({ 'blocks.0.mlp.fc1.snell_B': tf.tensor1d([g, 2 * g]) }, 0.03);
      const out = Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return out;
    };
    expect(run(() => 1)).toEqual(run(undefined));
  });
});
