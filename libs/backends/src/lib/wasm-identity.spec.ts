import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../index';

describe('wasm Identity', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('shares the buffer of a clone instead of copying it, and frees it with the last reference', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const before = tf.memory();
    const b = tf.clone(a);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.memory().numTensors).toBe(before.numTensors + 1);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers - 1);
  });

  it('saves tensors for the backward pass without copies and gives the same gradients', () => {
    const x = tf.tensor2d([[1, -2], [3, 0.5]]);
    const w = tf.tensor2d([[0.5, 1], [-1, 2]]);
    const buffers = tf.memory().numDataBuffers;
    let inside = 0;
    const [gx, gw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => {
      const y = tf.sum(tf.square(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D)));
      inside = tf.memory().numDataBuffers - buffers;
      return y;
    })([x, w]);
    // matMul's output, square's output and the sum: the saved inputs add no buffer
    expect(inside).toBe(3);
    // y = Σ (x·w)², dy/dx = 2(x·w)·wᵀ, dy/dw = 2xᵀ·(x·w)
    expect(Array.from(gx.dataSync())).toEqual([-3.5, -17, 9, 14]);
    expect(Array.from(gw.dataSync())).toEqual([11, 18, -9, 16]);
    tf.dispose([x, w, gx, gw]);
  });
});
