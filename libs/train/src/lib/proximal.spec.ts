import * as tf from '@tensorflow/tfjs';
import { withProximalTerm } from './proximal';

describe('withProximalTerm', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('adds mu/2 times the squared distance to the loss and mu times the distance to each gradient', () => {
    const w = tf.variable(tf.tensor1d([3, 1]));
    const anchor = tf.tensor1d([1, 1]);
    const before = tf.memory().numTensors;

    const [loss, grad] = tf.tidy(() => {
      const r = withProximalTerm({ w: tf.tensor1d([0.5, -0.5]) }, tf.scalar(2), new Map([['w', w]]), new Map([['w', anchor]]), 0.5);
      return [r.loss, r.grads['w']];
    });

    // loss 2 + 0.25·(2² + 0²) = 3; gradient [0.5 + 0.5·2, -0.5 + 0]
    expect(loss.dataSync()[0]).toBeCloseTo(3, 6);
    expect(Array.from(grad.dataSync())).toEqual([1.5, -0.5]);
    tf.dispose([loss, grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, anchor]);
  });

  it('gives a trainable without a loss gradient the pull alone', () => {
    const w = tf.variable(tf.tensor1d([2]));
    const anchor = tf.tensor1d([0]);

    const grad = tf.tidy(() => withProximalTerm({}, tf.scalar(0), new Map([['w', w]]), new Map([['w', anchor]]), 3).grads['w']);

    expect(Array.from(grad.dataSync())).toEqual([6]);
    tf.dispose([grad, w, anchor]);
  });
});
