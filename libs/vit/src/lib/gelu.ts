import * as tf from '@tensorflow/tfjs';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact (erf) GELU, as timm's nn.GELU. The custom gradient keeps only x alive between forward and
 * backward (autodiff through erf would keep several [tokens, hidden] intermediates per block).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([input]);
    const value = tf.tidy(() => tf.mul(tf.mul(input, 0.5), tf.add(tf.erf(tf.mul(input, INV_SQRT2)), 1)));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx] = saved;
        // d/dx x·Φ(x) = Φ(x) + x·φ(x)
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(sx, INV_SQRT2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), INV_SQRT_2PI);
        return [tf.mul(dy as tf.Tensor, tf.add(cdf, tf.mul(sx, pdf)))];
      },
    };
  });
  return op(x) as T;
}
