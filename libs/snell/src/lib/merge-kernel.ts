import * as tf from '@tensorflow/tfjs';
import type { SnellConfig } from './config';
import { distanceMerge, distanceMergeGrad, distanceMergeWithGrad } from './distance-kernel';
import { checkFactors } from './factors';
import { linearMerge, linearMergeGrad } from './linear-kernel';

/** ΔW [in, out] without gradient bookkeeping (forward of mergeKernel, recomputation in backward). */
export function mergeForward(A: tf.Tensor3D, B: tf.Tensor3D, cfg: SnellConfig, direct = false): tf.Tensor2D {
  return cfg.kernel === 'linear' ? linearMerge(A, B) : distanceMerge(A, B, cfg, direct);
}

/** Closed-form [dL/dA, dL/dB] given dL/dΔW. */
export function mergeGrad(A: tf.Tensor3D, B: tf.Tensor3D, dW: tf.Tensor2D, cfg: SnellConfig): [tf.Tensor3D, tf.Tensor3D] {
  return cfg.kernel === 'linear' ? linearMergeGrad(A, B, dW) : distanceMergeGrad(A, B, dW, cfg);
}

/** ΔW and its closed-form gradient as a function of dL/dΔW, sharing the work of both (call in a tidy). */
export function mergeWithGrad(
  A: tf.Tensor3D,
  B: tf.Tensor3D,
  cfg: SnellConfig,
): { deltaW: tf.Tensor2D; grad: (dW: tf.Tensor2D) => [tf.Tensor3D, tf.Tensor3D] } {
  if (cfg.kernel === 'linear') return { deltaW: linearMerge(A, B), grad: (dW) => linearMergeGrad(A, B, dW) };
  return distanceMergeWithGrad(A, B, cfg);
}

/**
 * The merged matrix ΔW [in, out] of factors A [H, in, d], B [H, out, d], differentiable with the
 * closed-form gradient. Only A and B are saved; the distances are recomputed in the backward pass
 * rather than kept alive between forward and backward (the reference's checkpointing).
 */
export function mergeKernel(A: tf.Tensor3D, B: tf.Tensor3D, cfg: SnellConfig): tf.Tensor2D {
  checkFactors('mergeKernel()', A, B, cfg);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: mergeForward(a, b, cfg),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
        return mergeGrad(sa, sb, dy as tf.Tensor2D, cfg);
      },
    };
  });
  return op(A, B) as tf.Tensor2D;
}
