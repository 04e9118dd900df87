import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import { adaptedModules, factorNames, sparseDelta, type SnellConfig } from '@fedsnell/snell';
import { median } from './step';

/**
 * Time of sparseDelta (merge ΔW + exact quantile τ + S = ΔW·|ΔW|·mask) over every adapted module
 * once, read back to force completion: the merge+quantile work of one SNELL forward pass.
 * (The step merges a second time in the backward pass, without the quantile.)
 */
export function timeSparseDeltaAllModules(initial: TensorMap, cfg: SnellConfig, repeats: number): { medianMs: number; runsMs: number[]; modules: number } {
  const factors: [tf.Tensor3D, tf.Tensor3D][] = [];
  for (const module of adaptedModules(initial.keys())) {
    const [nameA, nameB] = factorNames(module);
    const t = initial.get(nameA) as NamedTensor;
    const b = initial.get(nameB);
    if (!b) continue;
    factors.push([tf.tensor3d(t.data, t.shape as [number, number, number]), tf.tensor3d(b.data, b.shape as [number, number, number])]);
  }
  const runsMs: number[] = [];
  try {
    for (let r = 0; r < repeats + 1; r++) {
      const t0 = performance.now();
      for (const [a, b] of factors) {
        const s = sparseDelta(a, b, cfg);
        s.dataSync();
        s.dispose();
      }
      // the first run warms the kernels up
      if (r > 0) runsMs.push(performance.now() - t0);
    }
  } finally {
    for (const [a, b] of factors) tf.dispose([a, b]);
  }
  return { medianMs: Math.round(median(runsMs)), runsMs: runsMs.map((v) => Math.round(v)), modules: factors.length };
}
