import type { NamedTensor } from '@fedsnell/tensor-io';
import type { SnellConfig } from './config';
import { headCoefficients } from './factors';
import { absQuantile64 } from './quantile';

export interface SparseDeltaResult {
  /** S(ΔW), row-major [in, out]. */
  delta: Float32Array;
  shape: [number, number];
  /** τ in float64 (0 when dense). */
  tau: number;
  kept: number;
}

const FN = 'computeSparseDelta()';

/** Validates factor shapes and values against cfg; returns [in, out, d]. */
export function checkNamedFactors(fn: string, A: NamedTensor, B: NamedTensor, cfg: SnellConfig): [number, number, number] {
  const d = cfg.rank / cfg.heads;
  for (const [name, t, dim] of [['A', A, 'in'], ['B', B, 'out']] as const) {
    const s = t.shape;
    if (s.length !== 3 || s[0] !== cfg.heads || s[2] !== d || !(s[1] >= 1) || t.data.length !== s[0] * s[1] * s[2]) {
      throw new RangeError(
        `${name} passed to ${fn} must have shape [${cfg.heads}, ${dim}, ${d}] (heads, ${dim}, rank/heads) but got [${s.join(', ')}] with ${t.data.length} values`,
      );
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new RangeError(`${name} passed to ${fn} must be finite but has ${t.data[i]} at index ${i}`);
    }
  }
  return [A.shape[1], B.shape[1], d];
}

/**
 * ΔW [in, out] in float64 by direct distances (no ‖a‖² + ‖b‖² − 2⟨a, b⟩ cancellation). The common
 * case (distance kernel, p = 2, rank/heads = 4) takes an unrolled loop with the same operations in
 * the same order as the general one, so its result is bit for bit the same, in about 0.6× the time.
 */
export function merge64(A: NamedTensor, B: NamedTensor, cfg: SnellConfig): Float64Array {
  if (cfg.kernel === 'distance' && cfg.p === 2 && cfg.rank / cfg.heads === 4) return mergeL2Width4(A, B, cfg);
  return merge64General(A, B, cfg);
}

function mergeL2Width4(A: NamedTensor, B: NamedTensor, cfg: SnellConfig): Float64Array {
  const [inF, outF] = [A.shape[1], B.shape[1]];
  const a = Float64Array.from(A.data);
  const b = Float64Array.from(B.data);
  const W = new Float64Array(inF * outF);
  const coeffs = headCoefficients(cfg);
  // Rows outside, heads inside: each row of W stays in cache while every head adds to it, in the
  // same order per entry as heads outside (so the sums are the same bits).
  for (let i = 0; i < inF; i++) {
    for (let h = 0; h < cfg.heads; h++) {
      const c = coeffs[h];
      const bh = h * outF * 4;
      const ai = (h * inF + i) * 4;
      const [a0, a1, a2, a3] = [a[ai], a[ai + 1], a[ai + 2], a[ai + 3]];
      const row = i * outF;
      for (let j = 0, bj = bh; j < outF; j++, bj += 4) {
        const d0 = a0 - b[bj];
        const d1 = a1 - b[bj + 1];
        const d2 = a2 - b[bj + 2];
        const d3 = a3 - b[bj + 3];
        let acc = 0;
        acc += d0 * d0;
        acc += d1 * d1;
        acc += d2 * d2;
        acc += d3 * d3;
        W[row + j] += c * Math.sqrt(acc);
      }
    }
  }
  return W;
}

/** merge64 for any kernel, norm and head width (what the unrolled case must equal). */
export function merge64General(A: NamedTensor, B: NamedTensor, cfg: SnellConfig): Float64Array {
  const [inF, outF, d] = [A.shape[1], B.shape[1], cfg.rank / cfg.heads];
  const a = Float64Array.from(A.data);
  const b = Float64Array.from(B.data);
  const W = new Float64Array(inF * outF);
  const linear = cfg.kernel === 'linear';
  const coeffs = linear ? [1] : headCoefficients(cfg);
  for (let h = 0; h < cfg.heads; h++) {
    const c = coeffs[h];
    for (let i = 0; i < inF; i++) {
      const ai = (h * inF + i) * d;
      const row = i * outF;
      for (let j = 0; j < outF; j++) {
        const bj = (h * outF + j) * d;
        let acc = 0;
        if (linear) for (let k = 0; k < d; k++) acc += a[ai + k] * b[bj + k];
        else if (cfg.p === 1) for (let k = 0; k < d; k++) acc += Math.abs(a[ai + k] - b[bj + k]);
        else {
          for (let k = 0; k < d; k++) {
            const diff = a[ai + k] - b[bj + k];
            acc += diff * diff;
          }
          acc = Math.sqrt(acc);
        }
        W[row + j] += c * acc;
      }
    }
  }
  return W;
}

/**
 * S(ΔW) of one module from plain factors, for consumers that do not train (coordinator
 * aggregation, `fedsnell delta`, merging). Computed in float64 on the CPU — the merge, τ, the mask
 * and ΔW·|ΔW| — and rounded to float32 once, so it equals the float64 reference up to that
 * rounding on any finite adapter, independent of the tfjs backend (≈ as fast as tfjs on wasm).
 */
export function computeSparseDelta(A: NamedTensor, B: NamedTensor, cfg: SnellConfig): SparseDeltaResult {
  const [inF, outF] = checkNamedFactors(FN, A, B, cfg);
  const W = merge64(A, B, cfg);
  const shape: [number, number] = [inF, outF];
  if (cfg.sparsity === 0) return { delta: Float32Array.from(W), shape, tau: 0, kept: W.length };
  const tau = absQuantile64(W, cfg.sparsity);
  const soft = cfg.threshold === 'soft';
  const delta = new Float32Array(W.length);
  let kept = 0;
  for (let i = 0; i < W.length; i++) {
    const v = W[i];
    const m = Math.abs(v);
    if (m > tau) {
      delta[i] = soft ? v * (m - tau) : v * m;
      kept++;
    }
  }
  return { delta, shape, tau, kept };
}
