import * as tf from '@tensorflow/tfjs';
import { plainMatMul } from '@fedsnell/snell';

/**
 * y = x·Wᵀ + b for a frozen weight stored once as `wt` = Wᵀ [in, out]. The gradient flows to x only
 * (dX = dY·W, a plain matMul against a transposed copy made in the backward pass): no weight gradient
 * is ever formed, and no transposed-flag matMul runs.
 */
export function frozenLinear(x: tf.Tensor2D, wt: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor2D];
    const product = tf.matMul(input, wt);
    const value = b ? tf.add(product, b) : product;
    if (b) product.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const w = tf.transpose(wt);
        const dx = tf.matMul(dy as tf.Tensor2D, w);
        w.dispose();
        return [dx];
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/** y = x·Wᵀ + b with W [out, in] trainable (full fine-tuning): plain matMuls both ways. */
export function trainableLinear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const product = plainMatMul(x, w, false, true);
  if (!b) return product;
  return tf.tidy(() => tf.add(product, b));
}

/**
 * Identity in the forward pass; multiplies the incoming gradient by a fixed 0/1 mask, so only the
 * masked-in entries of a full weight matrix learn (mask-based sparse tuning, GPS-style).
 */
export function maskGradient<T extends tf.Tensor>(w: T, mask: tf.Tensor): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor];
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.mul(dy as tf.Tensor, mask)],
    };
  });
  return op(w) as T;
}
