import type * as tf from '@tensorflow/tfjs';
import { absQuantileParts } from './quantile';

export interface CompetitionThreshold {
  /** τ = quantile(|ΔW|, s) in float64 (as the reference computes it). */
  tau: number;
  /** Largest float32 ≤ τ: for every float32 a, a > cut ⇔ a > τ (a float32 τ could round up). */
  cut: number;
  /** Entries with |ΔW| > τ. */
  kept: number;
}

/** The float32 number c ≤ x closest to x. */
export function floorToFloat32(x: number): number {
  const f = Math.fround(x);
  if (f <= x || !Number.isFinite(f)) return f;
  const buf = new Float32Array([f]);
  const bits = new Int32Array(buf.buffer);
  // Stepping the bit pattern towards −∞: down for positives, up for negatives; +0 goes to −min.
  if (f > 0) bits[0] -= 1;
  else if (f === 0) bits[0] = 0x80000001 | 0;
  else bits[0] += 1;
  return buf[0];
}

/** τ, the float32 cut and the surviving count for values ΔW at sparsity s > 0 (one pass each). */
export function competitionThreshold(values: Float32Array, sparsity: number): CompetitionThreshold {
  const { tau, hi, vHi } = absQuantileParts(values, sparsity);
  // v[lo] ≤ τ < v[hi] ⇒ exactly the ranks ≥ hi survive; only ties at τ need a counting pass.
  let kept = values.length - hi;
  if (!(tau < vHi)) {
    kept = 0;
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > tau) kept++;
  }
  return { tau, cut: floorToFloat32(tau), kept };
}

/**
 * ΔW's values read synchronously, for τ. WebGPU in Node cannot read synchronously at all (tfjs
 * needs an OffscreenCanvas), so the failure says how to avoid the read.
 */
export function readDeltaSync(deltaW: tf.Tensor, fn: string): Float32Array {
  try {
    return deltaW.dataSync() as Float32Array;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fn} could not read ΔW synchronously (${reason}); pass a threshold from await snellThreshold(A, B, cfg)`);
  }
}
