import * as tf from '@tensorflow/tfjs';
import { attention, batchedAttention, slicedAttention } from './attention';
import { describeOnBackends } from '@fedsnell/backends/testing';

// 2 samples × 3 tokens, 2 heads of width 2: q, k, v [6, 4].
const SAMPLES = 2;
const HEADS = 2;
const seeded = (seed: number): tf.Tensor2D => tf.tensor2d(Array.from({ length: 24 }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)), [6, 4]);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describeOnBackends('attention', () => {
  it('equals the batched formulation', () => {
    const [q, k, v] = [seeded(1), seeded(2), seeded(3)];
    const ours = slicedAttention(q, k, v, SAMPLES, HEADS);
    const reference = batchedAttention(q, k, v, SAMPLES, HEADS);
    expect(ours.shape).toEqual([6, 4]);
    expect(maxAbsDiff(ours, reference)).toBeLessThan(1e-6);
    tf.dispose([q, k, v, ours, reference]);
  });

  it('attends within a sample only: one token per sample returns its own v', () => {
    // tokens = 1: softmax over a single score is 1, so the output is v itself.
    const [q, k, v] = [seeded(4), seeded(5), seeded(6)];
    const out = slicedAttention(q, k, v, 6, HEADS);
    expect(maxAbsDiff(out, v)).toBeLessThan(1e-6);
    tf.dispose([q, k, v, out]);
  });

  it('has the gradients (q, k, v) of the batched formulation', () => {
    const [q, k, v, g] = [seeded(1), seeded(2), seeded(3), seeded(4)];
    const loss = (f: typeof attention) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, SAMPLES, HEADS), g));
    const ours = tf.grads(loss(slicedAttention))([q, k, v]);
    const reference = tf.grads(loss(batchedAttention))([q, k, v]);
    ours.forEach((t, i) => expect(maxAbsDiff(t, reference[i])).toBeLessThan(1e-5));
    tf.dispose([q, k, v, g, ...ours, ...reference]);
  });

  it('runs few-token inputs batched, with the same result', () => {
    // 3 tokens per sample is below SLICED_MIN_TOKENS: the dispatch of per-head matMuls would cost more
    const [q, k, v] = [seeded(7), seeded(8), seeded(9)];
    const ours = attention(q, k, v, SAMPLES, HEADS);
    const sliced = slicedAttention(q, k, v, SAMPLES, HEADS);
    expect(maxAbsDiff(ours, sliced)).toBeLessThan(1e-6);
    tf.dispose([q, k, v, ours, sliced]);
  });

  it('leaks no tensors in forward and backward', () => {
    const [q, k, v] = [seeded(1), seeded(2), seeded(3)];
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(slicedAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, SAMPLES, HEADS)),
    )([q, k, v]);
    tf.dispose(grads);
    slicedAttention(q, k, v, SAMPLES, HEADS).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k, v]);
  });
});
