import * as tf from '@tensorflow/tfjs';
import { gelu } from './gelu';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('gelu', () => {
  it('is the exact erf GELU', () =>
    tf.tidy(() => {
      const y = gelu(tf.tensor1d([-1, 0, 1, 3])).arraySync();
      // x·Φ(x): Φ(1) = 0.841344746, Φ(3) = 0.998650102
      [-0.158655254, 0, 0.841344746, 2.995950306].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
    }));

  it('has the gradient Φ(x) + x·φ(x)', () =>
    tf.tidy(() => {
      const [dx] = tf.grads((x: tf.Tensor) => tf.sum(gelu(x)))([tf.tensor1d([-1, 0, 1])]);
      // Φ(1) + φ(1) = 0.841344746 + 0.241970725; Φ(-1) − φ(-1) = 0.158655254 − 0.241970725
      const g = dx.arraySync() as number[];
      [-0.083315471, 0.5, 1.083315471].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 5));
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const x = tf.tensor1d([0.5, -2]);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(gelu(t)))([x]);
      tf.dispose([value, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
    }));
});
