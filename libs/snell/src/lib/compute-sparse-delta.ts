import type { NamedTensor } from '@fedsnell/tensor-io';
import type { SnellConfig } from './config';
import { headCoefficients } from './factors';
import { absKeyHistogram, absQuantile64, countAbsKeys } from './quantile';

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
 * the same order as the general one, so its result is bit for bit the same, in about 0.6× the time
 * (two heads, the default, in one pass over ΔW). With `histogram` (absKeyHistogram()), it also
 * counts the float32 keys of |ΔW| row by row, as absQuantile64 takes them. Finite float32 factors
 * give a finite ΔW (a squared float32 difference is below 1e78), so there is no NaN to count.
 * `out` (in·out entries, any contents) receives ΔW instead of a new array.
 */
export function merge64(A: NamedTensor, B: NamedTensor, cfg: SnellConfig, histogram?: Uint32Array, out?: Float64Array): Float64Array {
  const size = A.shape[1] * B.shape[1];
  if (out && out.length !== size) throw new RangeError(`out passed to merge64() must have ${size} entries but has ${out.length}`);
  const unrolled = cfg.kernel === 'distance' && cfg.p === 2 && cfg.rank / cfg.heads === 4;
  if (unrolled && cfg.heads === 2) return mergeL2Width4TwoHeads(A, B, cfg, out ?? new Float64Array(size), histogram);
  const W = out ? out.fill(0) : new Float64Array(size);
  if (unrolled) mergeL2Width4(A, B, cfg, W);
  else merge64General(A, B, cfg, W);
  if (!histogram) return W;
  const outF = B.shape[1];
  const row = new Float32Array(outF);
  for (let start = 0; start < W.length; start += outF) {
    for (let j = 0; j < outF; j++) row[j] = Math.abs(W[start + j]);
    countAbsKeys(histogram, row);
  }
  return W;
}

/** mergeL2Width4 for two heads: both in one pass over ΔW, each entry summed as 0 + c₀·d₀ + c₁·d₁. */
function mergeL2Width4TwoHeads(A: NamedTensor, B: NamedTensor, cfg: SnellConfig, W: Float64Array, histogram?: Uint32Array): Float64Array {
  const [inF, outF] = [A.shape[1], B.shape[1]];
  const a = Float64Array.from(A.data);
  const b = Float64Array.from(B.data);
  const [c0, c1] = headCoefficients(cfg);
  const second = outF * 4;
  const row = new Float32Array(outF);
  for (let i = 0; i < inF; i++) {
    const p = i * 4;
    const q = (inF + i) * 4;
    const [a0, a1, a2, a3] = [a[p], a[p + 1], a[p + 2], a[p + 3]];
    const [e0, e1, e2, e3] = [a[q], a[q + 1], a[q + 2], a[q + 3]];
    const start = i * outF;
    for (let j = 0, bj = 0; j < outF; j++, bj += 4) {
      const d0 = a0 - b[bj];
      const d1 = a1 - b[bj + 1];
      const d2 = a2 - b[bj + 2];
      const d3 = a3 - b[bj + 3];
      let s = 0;
      s += d0 * d0;
      s += d1 * d1;
      s += d2 * d2;
      s += d3 * d3;
      const bk = bj + second;
      const f0 = e0 - b[bk];
      const f1 = e1 - b[bk + 1];
      const f2 = e2 - b[bk + 2];
      const f3 = e3 - b[bk + 3];
      let t = 0;
      t += f0 * f0;
      t += f1 * f1;
      t += f2 * f2;
      t += f3 * f3;
      let w = 0;
      w += c0 * Math.sqrt(s);
      w += c1 * Math.sqrt(t);
      W[start + j] = w;
      row[j] = Math.abs(w);
    }
    if (histogram) countAbsKeys(histogram, row);
  }
  return W;
}

/** Adds ΔW into W (zeros on entry). */
function mergeL2Width4(A: NamedTensor, B: NamedTensor, cfg: SnellConfig, W: Float64Array): Float64Array {
  const [inF, outF] = [A.shape[1], B.shape[1]];
  const a = Float64Array.from(A.data);
  const b = Float64Array.from(B.data);
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
export function merge64General(A: NamedTensor, B: NamedTensor, cfg: SnellConfig, W: Float64Array = new Float64Array(A.shape[1] * B.shape[1])): Float64Array {
  const [inF, outF, d] = [A.shape[1], B.shape[1], cfg.rank / cfg.heads];
  const a = Float64Array.from(A.data);
  const b = Float64Array.from(B.data);
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
 * With `buffers`, ΔW and the returned delta live in them (the delta is valid until the next call
 * with the same buffers): a caller that computes module after module and uses each delta at once
 * skips allocating, and the OS faulting in, a fresh 12 bytes per entry every time.
 */
export function computeSparseDelta(A: NamedTensor, B: NamedTensor, cfg: SnellConfig, buffers?: SparseDeltaBuffers): SparseDeltaResult {
  const [inF, outF] = checkNamedFactors(FN, A, B, cfg);
  const shape: [number, number] = [inF, outF];
  const size = inF * outF;
  if (cfg.sparsity === 0) {
    const W = merge64(A, B, cfg, undefined, buffers?.merged(size));
    const delta = buffers ? buffers.delta(size) : new Float32Array(size);
    delta.set(W);
    return { delta, shape, tau: 0, kept: size };
  }
  const histogram = absKeyHistogram();
  const W = merge64(A, B, cfg, histogram, buffers?.merged(size));
  const tau = absQuantile64(W, cfg.sparsity, histogram);
  const soft = cfg.threshold === 'soft';
  const delta = buffers ? buffers.delta(size) : new Float32Array(size);
  let kept = 0;
  for (let i = 0; i < size; i++) {
    const v = W[i];
    const m = Math.abs(v);
    if (m > tau) {
      delta[i] = soft ? v * (m - tau) : v * m;
      kept++;
    } else delta[i] = 0;
  }
  return { delta, shape, tau, kept };
}

/** Scratch memory computeSparseDelta reuses from call to call (grown to the largest module seen). */
export class SparseDeltaBuffers {
  private w = new Float64Array(0);
  private d = new Float32Array(0);

  /** `size` entries for ΔW, contents undefined. */
  merged(size: number): Float64Array {
    if (this.w.length < size) this.w = new Float64Array(size);
    return this.w.subarray(0, size);
  }

  /** `size` entries for S(ΔW), contents undefined. */
  delta(size: number): Float32Array {
    if (this.d.length < size) this.d = new Float32Array(size);
    return this.d.subarray(0, size);
  }
}
