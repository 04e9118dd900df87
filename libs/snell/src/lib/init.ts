import type { NamedTensor } from '@fedsnell/tensor-io';
import type { SnellConfig } from './config';

export interface SnellFactors {
  A: NamedTensor;
  B: NamedTensor;
}

function uniform(shape: number[], bound: number, rng: () => number): NamedTensor {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng() - 1) * bound;
  return { shape, data };
}

/**
 * The reference initialisation: PyTorch kaiming_uniform_(a=√5) on a 3-D [H, n, d] tensor takes
 * fan_in = n·d, i.e. A ~ U(±1/√(in·d)), B ~ U(±1/√(out·d)). The linear kernel uses the same
 * (not LoRA's B = 0): with B = 0 a sparsified ΔW = 0 has an empty mask and would never train.
 *
 * `initScale` (default 1, the reference) multiplies both bounds. The distance kernel is homogeneous
 * (ΔW(kA, kB) = k·ΔW(A, B)), so a larger init starts ΔW k times — and the reference's quadratic
 * S = ΔW·|ΔW| k² times — further from zero, where SNELL otherwise moves slowly.
 */
export function initSnellFactors(inFeatures: number, outFeatures: number, cfg: SnellConfig, rng: () => number, initScale = 1): SnellFactors {
  for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} passed to initSnellFactors() must be a positive integer but got ${v}`);
  }
  if (!Number.isFinite(initScale) || initScale <= 0) {
    throw new RangeError(`initScale passed to initSnellFactors() must be a finite number > 0 but got ${initScale}`);
  }
  const d = cfg.rank / cfg.heads;
  const A = uniform([cfg.heads, inFeatures, d], initScale / Math.sqrt(inFeatures * d), rng);
  const B = uniform([cfg.heads, outFeatures, d], initScale / Math.sqrt(outFeatures * d), rng);
  return { A, B };
}
