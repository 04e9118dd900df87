import * as tf from '@tensorflow/tfjs';
import type { SnellConfig } from './config';
import { competitionThreshold, readDeltaSync, type CompetitionThreshold } from './threshold';

export interface SparsifyResult {
  sparse: tf.Tensor2D;
  tau: number;
  kept: number;
}

/**
 * The factor w with S = ΔW ⊙ w and dL/dΔW = dL/dS ⊙ w (w carries no gradient):
 * reference w = |ΔW|·[|ΔW| > τ]; soft (the paper's text) w = max(|ΔW| − τ, 0).
 */
export function sparsityWeight(deltaW: tf.Tensor2D, cut: number, tau: number, cfg: SnellConfig): tf.Tensor2D {
  return tf.tidy((): tf.Tensor2D => {
    const a = tf.abs(deltaW);
    if (cfg.threshold === 'soft') return tf.relu(tf.sub<tf.Tensor2D>(a, Math.fround(tau)));
    // step(a − cut) = [a > cut]: a float32 difference of distinct floats never rounds to 0, and
    // step is one pass where greater + cast are two.
    return tf.mul<tf.Tensor2D>(a, tf.step(tf.sub(a, cut)));
  });
}

/**
 * Competition-based sparsification of one merged matrix: τ = quantile(|ΔW|, s) (exact, on the CPU:
 * one dataSync of ΔW), S = ΔW·|ΔW|·[|ΔW| > τ]. s = 0 is the reference's dense KLoRA switch: S = ΔW,
 * τ = 0, every entry kept. Differentiable: dL/dΔW = dL/dS·|ΔW|·mask. A precomputed `threshold`
 * (see snellThreshold) skips the read, for backends where it is slow or impossible.
 */
export function sparsify(deltaW: tf.Tensor2D, cfg: SnellConfig, threshold?: CompetitionThreshold): SparsifyResult {
  if (deltaW.rank !== 2) throw new RangeError(`deltaW passed to sparsify() must be rank 2 [in, out] but got shape [${deltaW.shape.join(', ')}]`);
  if (cfg.sparsity === 0) return { sparse: tf.clone(deltaW), tau: 0, kept: deltaW.size };
  const { tau, cut, kept } = threshold ?? competitionThreshold(readDeltaSync(deltaW, 'sparsify()'), cfg.sparsity);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [w, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const weight = sparsityWeight(w, cut, tau, cfg);
    save([weight]);
    return {
      value: tf.mul(w, weight),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(dy as tf.Tensor, saved[0])],
    };
  });
  return { sparse: op(deltaW) as tf.Tensor2D, tau, kept };
}
