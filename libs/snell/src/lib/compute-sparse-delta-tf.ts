import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '@fedsnell/tensor-io';
import type { SnellConfig } from './config';
import { checkNamedFactors, type SparseDeltaResult } from './compute-sparse-delta';
import { mergeForward } from './merge-kernel';
import { competitionThreshold } from './threshold';

/**
 * computeSparseDelta on the current tfjs backend, in float32: the direct distance form (each head's
 * distances accurate to a few ulps), one asynchronous read (works on WebGPU in Node), then τ, the
 * mask and ΔW·|ΔW| on the CPU. Against the float64 computeSparseDelta the difference is float32
 * rounding of ΔW (≈1e-7 of the largest entry), which can flip entries within that of τ.
 */
export async function computeSparseDeltaTf(A: NamedTensor, B: NamedTensor, cfg: SnellConfig): Promise<SparseDeltaResult> {
  const [inF, outF] = checkNamedFactors('computeSparseDeltaTf()', A, B, cfg);
  const deltaW = tf.tidy(() =>
    mergeForward(tf.tensor3d(A.data, [cfg.heads, inF, A.shape[2]]), tf.tensor3d(B.data, [cfg.heads, outF, B.shape[2]]), cfg, true),
  );
  let values: Float32Array;
  try {
    values = (await deltaW.data()) as Float32Array;
  } finally {
    deltaW.dispose();
  }
  const shape: [number, number] = [inF, outF];
  if (cfg.sparsity === 0) return { delta: values, shape, tau: 0, kept: values.length };
  const { tau, kept } = competitionThreshold(values, cfg.sparsity);
  const soft = cfg.threshold === 'soft';
  const delta = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const m = Math.abs(v);
    if (m > tau) delta[i] = soft ? v * (m - tau) : v * m;
  }
  return { delta, shape, tau, kept };
}
