// Test-only: a direct float64 transcription of the reference (SNELL.md), to measure float32 error
// on inputs that have no golden file. Deliberately naive: loops, no matmul tricks.

export interface Reference64 {
  deltaW: Float64Array;
  tau: number;
  kept: number;
  sparse: Float64Array;
}

export interface Reference64Config {
  heads: number;
  p: 1 | 2;
  scale: number;
  sparsity: number;
  kernel?: 'distance' | 'linear';
}

export function merge64(A: ArrayLike<number>, B: ArrayLike<number>, inF: number, outF: number, cfg: Reference64Config): Float64Array {
  const H = cfg.heads;
  const d = A.length / (H * inF);
  const W = new Float64Array(inF * outF);
  for (let h = 0; h < H; h++) {
    const c = cfg.kernel === 'linear' ? 1 : cfg.scale * (h % 2 === 0 ? 1 : -1);
    for (let i = 0; i < inF; i++) {
      for (let j = 0; j < outF; j++) {
        let acc = 0;
        for (let k = 0; k < d; k++) {
          const a = A[(h * inF + i) * d + k];
          const b = B[(h * outF + j) * d + k];
          if (cfg.kernel === 'linear') acc += a * b;
          else acc += cfg.p === 1 ? Math.abs(a - b) : (a - b) * (a - b);
        }
        W[i * outF + j] += c * (cfg.kernel === 'linear' || cfg.p === 1 ? acc : Math.sqrt(acc));
      }
    }
  }
  return W;
}

export function reference64(A: ArrayLike<number>, B: ArrayLike<number>, inF: number, outF: number, cfg: Reference64Config): Reference64 {
  const deltaW = merge64(A, B, inF, outF, cfg);
  if (cfg.sparsity === 0) return { deltaW, tau: 0, kept: deltaW.length, sparse: deltaW };
  const v = Array.from(deltaW, Math.abs).sort((a, b) => a - b);
  const pos = cfg.sparsity * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  const tau = v[lo] + (pos - lo) * (v[hi] - v[lo]);
  const sparse = deltaW.map((w) => (Math.abs(w) > tau ? w * Math.abs(w) : 0));
  const kept = deltaW.reduce((n, w) => n + (Math.abs(w) > tau ? 1 : 0), 0);
  return { deltaW, tau, kept, sparse };
}

/** dL/dA, dL/dB of L = Σ G ⊙ (x·S) in float64 (distance p = 2 and linear kernels). */
export function grads64(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  x: ArrayLike<number>,
  G: ArrayLike<number>,
  inF: number,
  outF: number,
  cfg: Reference64Config,
): { gradA: Float64Array; gradB: Float64Array } {
  const n = x.length / inF;
  const H = cfg.heads;
  const d = A.length / (H * inF);
  const { deltaW, tau } = reference64(A, B, inF, outF, cfg);
  const dW = new Float64Array(inF * outF);
  for (let i = 0; i < inF; i++) {
    for (let j = 0; j < outF; j++) {
      let dS = 0;
      for (let r = 0; r < n; r++) dS += x[r * inF + i] * G[r * outF + j];
      const w = deltaW[i * outF + j];
      dW[i * outF + j] = cfg.sparsity === 0 ? dS : Math.abs(w) > tau ? dS * Math.abs(w) : 0;
    }
  }
  const gradA = new Float64Array(A.length);
  const gradB = new Float64Array(B.length);
  for (let h = 0; h < H; h++) {
    const c = cfg.kernel === 'linear' ? 1 : cfg.scale * (h % 2 === 0 ? 1 : -1);
    for (let i = 0; i < inF; i++) {
      for (let j = 0; j < outF; j++) {
        const ai = (h * inF + i) * d;
        const bj = (h * outF + j) * d;
        let dist = 0;
        for (let k = 0; k < d; k++) dist += (A[ai + k] - B[bj + k]) ** 2;
        dist = Math.sqrt(dist);
        const g = c * dW[i * outF + j];
        for (let k = 0; k < d; k++) {
          const da = cfg.kernel === 'linear' ? g * B[bj + k] : dist > 0 ? (g * (A[ai + k] - B[bj + k])) / dist : 0;
          const db = cfg.kernel === 'linear' ? g * A[ai + k] : -da;
          gradA[ai + k] += da;
          gradB[bj + k] += db;
        }
      }
    }
  }
  return { gradA, gradB };
}
