import * as tf from '@tensorflow/tfjs';
import type { SnellConfig } from './config';
import { checkFactors } from './factors';
import { euclideanMergeFrom, euclideanParts } from './distance-kernel';
import { mergeForward, mergeKernel, mergeWithGrad } from './merge-kernel';
import { sparsify, sparsityWeight } from './sparsify';
import { competitionThreshold, readDeltaSync, type CompetitionThreshold } from './threshold';

/**
 * τ, cut and kept of S(ΔW(A, B)) read asynchronously. τ depends only on the factors, so a trainer
 * can compute it for every module before a step; passing it to snellMatMul/sparseDelta/sparsify
 * avoids their synchronous read, which WebGPU in Node cannot do at all (no OffscreenCanvas) and
 * which stalls the pipeline in browsers.
 */
export async function snellThreshold(A: tf.Tensor3D, B: tf.Tensor3D, cfg: SnellConfig): Promise<CompetitionThreshold> {
  checkFactors('snellThreshold()', A, B, cfg);
  const deltaW = mergeForward(A, B, cfg);
  try {
    if (cfg.sparsity === 0) return { tau: 0, cut: 0, kept: deltaW.size };
    return competitionThreshold((await deltaW.data()) as Float32Array, cfg.sparsity);
  } finally {
    deltaW.dispose();
  }
}

/** S(ΔW(A, B)) [in, out], differentiable in A and B (ΔW recomputed in backward, S's weight kept). */
export function sparseDelta(A: tf.Tensor3D, B: tf.Tensor3D, cfg: SnellConfig, threshold?: CompetitionThreshold): tf.Tensor2D {
  checkFactors('sparseDelta()', A, B, cfg);
  const deltaW = mergeKernel(A, B, cfg);
  const { sparse } = sparsify(deltaW, cfg, threshold);
  deltaW.dispose();
  return sparse;
}

/**
 * y = x·S(ΔW(A, B)) as one customGrad that keeps nothing of size [in, out] between forward and
 * backward: the forward saves only x, A, B (and the numbers τ, cut); the backward recomputes ΔW
 * and the mask (same ops, same backend ⇒ the same mask), then
 *   dS = xᵀ·dy,  dΔW = dS ⊙ w,  (dA, dB) = kernel gradient,  dx = dy·Sᵀ,
 * with explicit transposes and plain matMuls throughout; the distances behind ΔW are evaluated once
 * in the backward for both S and the kernel gradient.
 * Without `threshold`, τ is read with one dataSync of ΔW (cpu/wasm; see snellThreshold).
 */
export interface SnellMatMulOptions {
  /**
   * receives τ when the op read it itself (no `threshold` given), so that a caller running the same
   * product again (a checkpointed block's recomputation) can pass it back instead of reading again
   */
  onThreshold?: (threshold: CompetitionThreshold) => void;
  /**
   * keep the distances behind ΔW [H, in, out] from the forward for the backward, which then skips
   * their evaluation (distance kernel, p = 2; bit-identical gradients). Costs that memory until the
   * backward runs: for a product whose backward follows at once (a checkpointed block's
   * recomputation), not for a whole forward pass.
   */
  keepDistances?: boolean;
}

export function snellMatMul(
  x: tf.Tensor2D,
  A: tf.Tensor3D,
  B: tf.Tensor3D,
  cfg: SnellConfig,
  threshold?: CompetitionThreshold,
  options: SnellMatMulOptions = {},
): tf.Tensor2D {
  const { onThreshold, keepDistances = false } = options;
  const [inFeatures] = checkFactors('snellMatMul()', A, B, cfg);
  if (x.rank !== 2 || x.shape[1] !== inFeatures) {
    throw new RangeError(`x passed to snellMatMul() must have shape [n, ${inFeatures}] but got [${x.shape.join(', ')}]`);
  }
  const dense = cfg.sparsity === 0;
  if (dense && cfg.kernel === 'linear') return lowRankMatMul(x, A, B);
  const keep = keepDistances && cfg.kernel === 'distance' && cfg.p === 2;
  let th = threshold;
  /** S and its weight w from ΔW (w is undefined when dense: S = ΔW). */
  const sparse = (deltaW: tf.Tensor2D): { S: tf.Tensor2D; w?: tf.Tensor2D } => {
    if (dense || !th) return { S: deltaW };
    const w = sparsityWeight(deltaW, th.cut, th.tau, cfg);
    return { S: tf.mul<tf.Tensor2D>(deltaW, w), w };
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, a, b, save] = args as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    let deltaW: tf.Tensor2D;
    if (keep) {
      const parts = euclideanParts(a, b);
      save([xi, a, b, parts.Ac, parts.Bc, parts.dist]);
      deltaW = euclideanMergeFrom(parts, cfg).deltaW;
    } else {
      save([xi, a, b]);
      deltaW = mergeForward(a, b, cfg);
    }
    if (!dense && !th) {
      th = competitionThreshold(readDeltaSync(deltaW, 'snellMatMul()'), cfg.sparsity);
      onThreshold?.(th);
    }
    // The customGrad forward runs in a tidy: ΔW, w and S are released when it returns.
    const value = tf.matMul(xi, sparse(deltaW).S);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sa, sb, Ac, Bc, dist] = saved as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D?, tf.Tensor3D?, tf.Tensor3D?];
          const g = dy as tf.Tensor2D;
          // One evaluation of the distances (or the forward's, when kept) serves both ΔW (for S and w) and dA, dB.
          const merged = Ac && Bc && dist ? euclideanMergeFrom({ Ac, Bc, dist }, cfg) : mergeWithGrad(sa, sb, cfg);
          const { S, w } = sparse(merged.deltaW);
          // Several [in, out] temporaries live here; each is released as soon as it is used, so the
          // backward's peak stays a few matrices above LoRA's, not a dozen.
          // dx = dy·Sᵀ: transposing S [in, out] is cheaper than transposing dy [rows, out] and the result.
          const St = tf.transpose(S);
          const dx = tf.matMul(g, St);
          St.dispose();
          S.dispose();
          if (w) merged.deltaW.dispose();
          const sxT = tf.transpose(sx);
          const dS = tf.matMul<tf.Tensor2D>(sxT, g);
          sxT.dispose();
          let dW = dS;
          if (w) {
            dW = tf.mul<tf.Tensor2D>(dS, w);
            dS.dispose();
            w.dispose();
          }
          const [dA, dB] = merged.grad(dW);
          dW.dispose();
          return [dx, dA, dB];
        }),
    };
  });
  return op(x, A, B) as tf.Tensor2D;
}

/**
 * y = x·(A₀·B₀ᵀ) for the dense linear kernel (LoRA), evaluated as (x·A₀)·B₀ᵀ: the same product in
 * float32 rounding, but rank-r matMuls instead of forming ΔW [in, out] and three [rows, in, out]
 * products per step. Saves x, A, B only; the backward is
 *   g·B₀ = gB,  dx = gB·A₀ᵀ,  dA₀ = xᵀ·gB,  dB₀ = gᵀ·(x·A₀),
 * with explicit transposes and plain matMuls (transposed-flag matMuls are slow on wasm).
 */
function lowRankMatMul(x: tf.Tensor2D, A: tf.Tensor3D, B: tf.Tensor3D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, a, b, save] = args as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([xi, a, b]);
    const a0 = tf.squeeze<tf.Tensor2D>(a, [0]);
    const b0 = tf.squeeze<tf.Tensor2D>(b, [0]);
    const value = tf.matMul(tf.matMul(xi, a0), tf.transpose(b0));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sa, sb] = saved as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D];
          const g = dy as tf.Tensor2D;
          const sa0 = tf.squeeze<tf.Tensor2D>(sa, [0]);
          const sb0 = tf.squeeze<tf.Tensor2D>(sb, [0]);
          const gB = tf.matMul(g, sb0);
          const dx = tf.matMul(gB, tf.transpose(sa0));
          const dA = tf.expandDims(tf.matMul(tf.transpose(sx), gB), 0);
          const dB = tf.expandDims(tf.matMul(tf.transpose(g), tf.matMul(sx, sa0)), 0);
          return [dx, dA, dB];
        }),
    };
  });
  return op(x, A, B) as tf.Tensor2D;
}
