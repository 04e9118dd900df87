import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { layerNorm } from './layer-norm';

describe.each(['cpu', 'wasm'])('layerNorm on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend as 'cpu' | 'wasm');
  });

  it('normalises each row, then scales and shifts', () => {
    // row [1, 3]: mean 2, variance 1 → [-1, 1]; row [2, 2]: variance 0 → [0, 0]
    const y = layerNorm(tf.tensor2d([[1, 3], [2, 2]]), tf.tensor1d([2, 3]), tf.tensor1d([0.5, -1])).arraySync();
    [[-1.5, 2], [0.5, -1]].flat().forEach((v, i) => expect(y.flat()[i]).toBeCloseTo(v, 5));
  });

  it('uses eps 1e-6 by default', () => {
    // variance 1e-6 → x̂ = ±1e-3 / √(2e-6) = ±0.7071
    const y = layerNorm(tf.tensor2d([[0, 2e-3]]), tf.tensor1d([1, 1]), tf.tensor1d([0, 0])).arraySync();
    expect(y[0][1]).toBeCloseTo(Math.SQRT1_2, 3);
  });
});
