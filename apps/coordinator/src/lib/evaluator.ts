import type { Dataset } from '@fedsnell/data';
import { adaptedModules, computeSparseDelta, DENSE_TRAINABLES, factorNames, type SnellConfig } from '@fedsnell/snell';
import type { TensorMap, NamedTensor } from '@fedsnell/tensor-io';
import { evaluate } from '@fedsnell/train';
import { foldSparseDeltas, VisionTransformer, type SparseDelta, type VitConfig } from '@fedsnell/vit';
import type { EvaluateFn } from './options';

/**
 * Evaluates "the merged sparse model" of a global state: the backbone with every module's sparse
 * update folded in (W += Sᵀ) and the state's head and cls_token. S is S(κ(A, B)) of the state's
 * factors, or the strategy's own sparse updates when it passes them (SNELL-exact's exact mean).
 * Metrics: accuracy, loss, count and `accuracy/<class>` per class.
 */
export function createEvaluator(options: {
  config: VitConfig;
  backbone: TensorMap;
  data: Dataset;
  snell: SnellConfig;
  batchSize: number;
}): EvaluateFn {
  const { config, backbone, data, snell, batchSize } = options;
  return async (state, sparseDeltas) => {
    const deltas: Map<string, SparseDelta> = sparseDeltas ? new Map(sparseDeltas) : new Map();
    if (!sparseDeltas) {
      for (const module of adaptedModules(state.keys())) {
        const [A, B] = factorNames(module).map((name) => state.get(name) as NamedTensor);
        const { delta, shape } = computeSparseDelta(A, B, snell);
        deltas.set(module, { shape, data: delta });
      }
    }
    const dense: TensorMap = new Map(DENSE_TRAINABLES.filter((n) => state.has(n)).map((n) => [n, state.get(n) as NamedTensor]));
    const merged = foldSparseDeltas(backbone, deltas, dense, 'coordinator evaluation');
    const headRows = dense.get('head.weight')?.shape[0] ?? config.numClasses;
    const model = VisionTransformer.fromTensors({ ...config, numClasses: headRows }, merged);
    try {
      const result = await evaluate({ model, data, batchSize });
      const metrics: Record<string, number> = { accuracy: result.accuracy, loss: result.loss, count: result.count };
      for (const c of result.perClass) metrics[`accuracy/${c.name}`] = c.accuracy;
      return metrics;
    } finally {
      model.dispose();
    }
  };
}
