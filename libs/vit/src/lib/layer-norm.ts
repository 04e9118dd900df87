import * as tf from '@tensorflow/tfjs';

/**
 * LayerNorm over the last axis (timm ViT uses eps 1e-6), with a hand-written gradient: autodiff
 * through the nine forward ops runs about twenty backward kernels and keeps several [rows, d]
 * intermediates alive until the backward pass; this keeps x̂ [rows, d] and 1/σ [rows, 1] only.
 *   dβ = Σ_rows dy,  dγ = Σ_rows dy ⊙ x̂,  g = dy ⊙ γ,
 *   dx = (1/σ) ⊙ (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂))   (means over the last axis).
 */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-6): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const centred = tf.sub(input, tf.mean(input, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
    const normed = tf.mul(centred, rstd);
    save([normed, rstd, g]);
    return {
      value: tf.add(tf.mul(normed, g), b) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xhat, r, sg] = saved;
          const d = dy as tf.Tensor2D;
          const gx = tf.mul(d, sg);
          const inner = tf.sub(tf.sub(gx, tf.mean(gx, -1, true)), tf.mul(xhat, tf.mean(tf.mul(gx, xhat), -1, true)));
          return [tf.mul(inner, r), tf.sum(tf.mul(d, xhat), 0), tf.sum(d, 0)];
        }),
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}
