import { computeSparseDelta, SnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { snellModules } from './snell-modules';
import { exampleWeights } from './tensor-ops';
import type { ClientUpdate } from './types';

/** One module's exact target: the example-weighted mean of the clients' S(κ(A_k, B_k)), [in, out]. */
export interface ExactDelta {
  shape: [number, number];
  data: Float32Array;
}

/**
 * mean_k S(κ(A_k, B_k)) per adapted module: what averaging the clients' sparse updates themselves
 * (rather than their factors) gives. The merge and τ run in float64 (computeSparseDelta); the mean
 * accumulates in float64. Keyed by module name (`blocks.0.attn.q`).
 */
export function exactSparseAverage(updates: readonly ClientUpdate[], cfg: SnellConfig): Map<string, ExactDelta> {
  const where = 'exactSparseAverage()';
  if (updates.length === 0) throw new Error(`updates passed to ${where} must not be empty`);
  const weights = exampleWeights(where, updates);
  const sums = new Map<string, { shape: [number, number]; acc: Float64Array }>();
  updates.forEach((update, k) => {
    for (const [module, { A, B }] of snellModules(where, update.state)) {
      const { delta, shape } = computeSparseDelta(A, B, cfg);
      let entry = sums.get(module);
      if (!entry) {
        if (k > 0) throw new Error(`${where}: client ${update.clientId} sent module ${module} that client ${updates[0].clientId} did not`);
        entry = { shape, acc: new Float64Array(delta.length) };
        sums.set(module, entry);
      } else if (entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
        throw new Error(`${where}: client ${update.clientId} module ${module} merges to [${shape}], others to [${entry.shape}]`);
      }
      const { acc } = entry;
      const w = weights[k];
      for (let i = 0; i < acc.length; i++) acc[i] += w * delta[i];
    }
  });
  const out = new Map<string, ExactDelta>();
  for (const [module, { shape, acc }] of sums) out.set(module, { shape, data: Float32Array.from(acc) });
  return out;
}

/**
 * ‖S(κ(A, B)) − T‖ / ‖T‖ for one module (SNELL.md §5). Where the target is all zeros the gap is the
 * absolute ‖S(κ(A, B))‖, so "no gap" still reads 0.
 */
export function moduleGap(sparse: Float32Array, target: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < target.length; i++) {
    const d = sparse[i] - target[i];
    diff += d * d;
    norm += target[i] * target[i];
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

/**
 * The aggregation gap of any aggregated state (FedAvg's, SNELL-exact's, …) per module: how far the
 * global factors' sparse update is from the mean of the clients' sparse updates.
 */
export function aggregationGaps(
  updates: readonly ClientUpdate[],
  state: TensorMap,
  cfg: SnellConfig,
  targets: Map<string, ExactDelta> = exactSparseAverage(updates, cfg),
): Record<string, number> {
  const gaps: Record<string, number> = {};
  const modules = snellModules('aggregationGaps()', state);
  for (const [module, target] of targets) {
    const factors = modules.get(module);
    if (!factors) throw new Error(`aggregationGaps(): the aggregated state has no factors for module ${module}`);
    gaps[module] = moduleGap(computeSparseDelta(factors.A, factors.B, cfg).delta, target.data);
  }
  return gaps;
}
