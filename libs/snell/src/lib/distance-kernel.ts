import * as tf from '@tensorflow/tfjs';
import type { SnellConfig } from './config';
import { headCoefficients } from './factors';

/*
 * ΔW[i, j] = Σ_h c_h ‖A[h, i] − B[h, j]‖_p, shapes A [H, in, d], B [H, out, d], ΔW [in, out].
 * No tfjs gradients flow through these functions: merge-kernel.ts wraps them in a customGrad.
 */

function coefficients(cfg: SnellConfig): tf.Tensor3D {
  return tf.tensor3d(headCoefficients(cfg), [cfg.heads, 1, 1]);
}

/**
 * Both factors shifted by the per-head mean of all their rows. Distances do not change, but the
 * norms in ‖a‖² + ‖b‖² − 2⟨a, b⟩ shrink, and with them the float32 cancellation error.
 * The closed-form gradient is unchanged too (its row/column sums absorb the shift).
 */
function centred(A: tf.Tensor3D, B: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
  const mean = tf.mean(tf.concat([A, B], 1), 1, true);
  return [tf.sub(A, mean), tf.sub(B, mean)];
}

/**
 * x [H, rows, k] as the block-diagonal matrix [H·rows, H·k] with x_h in block (h, h). A batched
 * matMul runs a naive loop on wasm (~2 GFLOP/s for these thin operands) where a 2-D matMul runs
 * the SIMD GEMM, so the per-head products below are 2-D products with one block-diagonal operand:
 * H times the (tiny, k = rank/H + 2) flops, exact zeros in the off-diagonal blocks.
 */
function blockDiagonal(x: tf.Tensor3D): tf.Tensor2D {
  const [H, rows, k] = x.shape;
  if (H === 1) return tf.reshape(x, [rows, k]);
  // x [H, rows, 1, k] ⊙ I [H, 1, H, 1] broadcasts to [H, rows, H, k] (one kernel; a tile is slower).
  const eye = new Float32Array(H * H);
  for (let h = 0; h < H; h++) eye[h * H + h] = 1;
  return tf.reshape(tf.mul(tf.reshape(x, [H, rows, 1, k]), tf.tensor4d(eye, [H, 1, H, 1])), [H * rows, H * k]);
}

/** The diagonal blocks of y [H·rows, H·k] (as blockDiagonal lays them out) as [H, rows, k]. */
function diagonalBlocks(y: tf.Tensor2D, H: number): tf.Tensor3D {
  const rows = y.shape[0] / H;
  const k = y.shape[1] / H;
  if (H === 1) return tf.reshape(y, [1, rows, k]);
  const mask = new Float32Array(H * H);
  for (let h = 0; h < H; h++) mask[h * H + h] = 1;
  return tf.sum(tf.mul(tf.reshape(y, [H, rows, H, k]), tf.tensor4d(mask, [H, 1, H, 1])), 2) as tf.Tensor3D;
}

/** x [H, rows, k] as [H·k, rows]: the heads' transposes stacked (the partner of blockDiagonal). */
function stackedTransposes(x: tf.Tensor3D): tf.Tensor2D {
  const [H, rows, k] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1]), [H * k, rows]);
}

/**
 * Per-head Euclidean distances [H, in, out] from ONE plain matMul of augmented factors,
 * [a, ‖a‖², 1]·[−2b, 1, ‖b‖²]ᵀ = ‖a‖² + ‖b‖² − 2⟨a, b⟩: at ViT sizes the [H, in, out] passes
 * dominate, and this saves the two broadcast additions and the scaling. The heads are stacked
 * along rows ([H·in, out] = blockDiagonal(left)·stackedTransposes(right)), so the result reshapes
 * to [H, in, out] for free.
 */
function euclidean(Ac: tf.Tensor3D, Bc: tf.Tensor3D): tf.Tensor3D {
  const [H, rowsIn] = Ac.shape;
  const rowsOut = Bc.shape[1];
  // its own tidy: the squared distances and the clamp are [H, in, out] each; only the root survives
  return tf.tidy(() => {
    const left = tf.concat([Ac, tf.sum(tf.square(Ac), 2, true), tf.ones([H, rowsIn, 1])], 2) as tf.Tensor3D;
    const right = tf.concat([tf.mul(Bc, -2), tf.ones([H, rowsOut, 1]), tf.sum(tf.square(Bc), 2, true)], 2) as tf.Tensor3D;
    const squared = tf.matMul(blockDiagonal(left), stackedTransposes(right));
    // Clamp before the root, as the reference does: rounding can make the expansion negative.
    return tf.reshape(tf.sqrt(tf.relu(squared)), [H, rowsIn, rowsOut]);
  });
}

/** Σ_h c_h·D_h as a [1, H]·[H, in·out] matMul (a reduction over the leading axis would transpose). */
function combineHeads(dist: tf.Tensor3D, cfg: SnellConfig): tf.Tensor2D {
  const [H, rowsIn, rowsOut] = dist.shape;
  const c = tf.tensor2d(headCoefficients(cfg), [1, H]);
  return tf.reshape(tf.matMul(c, tf.reshape(dist, [H, rowsIn * rowsOut])), [rowsIn, rowsOut]);
}

/** Default bound on the elements of one broadcast [H, rows, out, d] chunk (16 MB of float32). */
export const CHUNK_ELEMENTS = 1 << 22;

function chunkRows(A: tf.Tensor3D, B: tf.Tensor3D, maxElements: number): number {
  const [H, , d] = A.shape;
  return Math.max(1, Math.floor(maxElements / (H * B.shape[1] * d)));
}

/**
 * Direct per-head distances Σ_k |a_k − b_k|^p (then the root for p = 2) in row chunks: no
 * cancellation, every entry accurate to a few float32 ulps. Used for p = 1 and for exact deltas.
 */
export function directDistances(A: tf.Tensor3D, B: tf.Tensor3D, p: 1 | 2, maxElements = CHUNK_ELEMENTS): tf.Tensor3D {
  return tf.tidy(() => {
    const [H, rowsIn, d] = A.shape;
    const rows = chunkRows(A, B, maxElements);
    const b = tf.reshape(B, [H, 1, B.shape[1], d]);
    const parts: tf.Tensor3D[] = [];
    for (let r0 = 0; r0 < rowsIn; r0 += rows) {
      const n = Math.min(rows, rowsIn - r0);
      const a = tf.reshape(tf.slice(A, [0, r0, 0], [H, n, d]), [H, n, 1, d]);
      const diff = tf.sub(a, b);
      const summed = tf.sum(p === 1 ? tf.abs(diff) : tf.square(diff), 3) as tf.Tensor3D;
      parts.push(p === 1 ? summed : tf.sqrt(summed));
    }
    return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
  });
}

/** ΔW [in, out] of the distance kernel; `direct` selects the cancellation-free form for p = 2. */
export function distanceMerge(A: tf.Tensor3D, B: tf.Tensor3D, cfg: SnellConfig, direct = false): tf.Tensor2D {
  return tf.tidy(() => {
    let dist: tf.Tensor3D;
    if (cfg.p === 1 || direct) dist = directDistances(A, B, cfg.p);
    else {
      const [Ac, Bc] = centred(A, B);
      dist = euclidean(Ac, Bc);
    }
    return combineHeads(dist, cfg);
  });
}

/**
 * Closed-form gradient of L with dL/dΔW = G. For p = 2, with M_h = c_h·G ⊘ D_h (0 where D_h = 0,
 * the reference's zero gradient of the root at 0):
 *   gradA_h = diag(rowsum M_h)·A_h − M_h·B_h,   gradB_h = diag(colsum M_h)·B_h − M_hᵀ·A_h,
 * with Mᵀ·A computed as (Aᵀ·M)ᵀ so that only the small [d, ·] operands are transposed.
 * For p = 1: gradA_h[i] = Σ_j c_h G[i, j] sign(A_h[i] − B_h[j]), gradB_h[j] = −Σ_i (same).
 */
export function distanceMergeGrad(
  A: tf.Tensor3D,
  B: tf.Tensor3D,
  G: tf.Tensor2D,
  cfg: SnellConfig,
  maxElements = CHUNK_ELEMENTS,
): [tf.Tensor3D, tf.Tensor3D] {
  return tf.tidy(() => (cfg.p === 1 ? manhattanGrad(A, B, G, cfg, maxElements) : euclideanGrad(A, B, G, cfg)));
}

/**
 * ΔW [in, out] together with its closed-form gradient as a function of G = dL/dΔW, sharing one
 * evaluation of the distances: snellMatMul's backward needs both (ΔW for S and its weight, the
 * distances for dA, dB), and the distance passes dominate the merge. Bit-identical to
 * distanceMerge / distanceMergeGrad (the same ops on the same inputs). Call inside a tidy.
 */
export function distanceMergeWithGrad(
  A: tf.Tensor3D,
  B: tf.Tensor3D,
  cfg: SnellConfig,
): { deltaW: tf.Tensor2D; grad: (G: tf.Tensor2D) => [tf.Tensor3D, tf.Tensor3D] } {
  if (cfg.p === 1) return { deltaW: distanceMerge(A, B, cfg), grad: (G) => distanceMergeGrad(A, B, G, cfg) };
  return euclideanMergeFrom(euclideanParts(A, B), cfg);
}

/** What the p = 2 merge and its gradient are computed from: the centred factors and per-head distances. */
export interface EuclideanParts {
  Ac: tf.Tensor3D;
  Bc: tf.Tensor3D;
  dist: tf.Tensor3D;
}

/** The centred factors and distances [H, in, out] of the p = 2 kernel (distanceMerge's own ops). */
export function euclideanParts(A: tf.Tensor3D, B: tf.Tensor3D): EuclideanParts {
  const [Ac, Bc] = centred(A, B);
  return { Ac, Bc, dist: euclidean(Ac, Bc) };
}

/**
 * ΔW and its gradient from parts computed earlier (bit-identical to distanceMergeWithGrad on the
 * same factors): a caller that holds the parts between a forward and its backward skips the
 * distance evaluation there. The gradient releases `dist`.
 */
export function euclideanMergeFrom(parts: EuclideanParts, cfg: SnellConfig): { deltaW: tf.Tensor2D; grad: (G: tf.Tensor2D) => [tf.Tensor3D, tf.Tensor3D] } {
  const { Ac, Bc, dist } = parts;
  return { deltaW: combineHeads(dist, cfg), grad: (G) => euclideanGradFrom(Ac, Bc, dist, G, cfg) };
}

function euclideanGrad(A: tf.Tensor3D, B: tf.Tensor3D, G: tf.Tensor2D, cfg: SnellConfig): [tf.Tensor3D, tf.Tensor3D] {
  const [Ac, Bc] = centred(A, B);
  return euclideanGradFrom(Ac, Bc, euclidean(Ac, Bc), G, cfg);
}

function euclideanGradFrom(Ac: tf.Tensor3D, Bc: tf.Tensor3D, dist: tf.Tensor3D, G: tf.Tensor2D, cfg: SnellConfig): [tf.Tensor3D, tf.Tensor3D] {
  // divNoNan gives the root's zero gradient at distance 0 in one pass; c·G is freed at once.
  const M = tf.tidy(() => tf.divNoNan(tf.mul(coefficients(cfg), tf.expandDims(G, 0)), dist) as tf.Tensor3D);
  // the distances are not needed past this point (callers pass their own, used once)
  dist.dispose();
  const rows = tf.sum(M, 2, true);
  const cols = tf.transpose(tf.sum(M, 1, true), [0, 2, 1]);
  const [H, rowsIn, d] = Ac.shape;
  const rowsOut = Bc.shape[1];
  // M_h·B_h for every head: [H·in, out]·[out, H·d] keeps the diagonal blocks.
  const bSideBySide = tf.reshape(tf.transpose(Bc, [1, 0, 2]), [rowsOut, H * d]) as tf.Tensor2D;
  const mB = diagonalBlocks(tf.matMul(tf.reshape(M, [H * rowsIn, rowsOut]) as tf.Tensor2D, bSideBySide), H);
  // (M_hᵀ·A_h)ᵀ = A_hᵀ·M_h for every head: blockDiagonal(Aᵀ) [H·d, H·in]·[H·in, out] = [H·d, out].
  const aTm = tf.reshape(tf.matMul(blockDiagonal(tf.transpose(Ac, [0, 2, 1])), tf.reshape(M, [H * rowsIn, rowsOut]) as tf.Tensor2D), [H, d, rowsOut]);
  const gradA = tf.sub<tf.Tensor3D>(tf.mul(rows, Ac), mB);
  const gradB = tf.sub<tf.Tensor3D>(tf.mul(cols, Bc), tf.transpose(aTm, [0, 2, 1]));
  return [gradA, gradB];
}

function manhattanGrad(A: tf.Tensor3D, B: tf.Tensor3D, G: tf.Tensor2D, cfg: SnellConfig, maxElements: number): [tf.Tensor3D, tf.Tensor3D] {
  const [H, rowsIn, d] = A.shape;
  const out = B.shape[1];
  const rows = chunkRows(A, B, maxElements);
  const b = tf.reshape(B, [H, 1, out, d]);
  const c = tf.reshape(coefficients(cfg), [H, 1, 1, 1]);
  const partsA: tf.Tensor3D[] = [];
  let gradB: tf.Tensor3D = tf.zeros([H, out, d]);
  for (let r0 = 0; r0 < rowsIn; r0 += rows) {
    const n = Math.min(rows, rowsIn - r0);
    const [ga, gb] = tf.tidy(() => {
      const a = tf.reshape(tf.slice(A, [0, r0, 0], [H, n, d]), [H, n, 1, d]);
      const g = tf.reshape(tf.slice(G, [r0, 0], [n, out]), [1, n, out, 1]);
      const weighted = tf.mul(tf.sign(tf.sub(a, b)), tf.mul(c, g));
      return [tf.sum(weighted, 2) as tf.Tensor3D, tf.sum(weighted, 1) as tf.Tensor3D];
    });
    partsA.push(ga);
    const next = tf.sub<tf.Tensor3D>(gradB, gb);
    gradB.dispose();
    gb.dispose();
    gradB = next;
  }
  return [partsA.length === 1 ? partsA[0] : tf.concat(partsA, 1), gradB];
}
