import * as tf from '@tensorflow/tfjs';
import { computeSparseDelta, describeSnellConfig, factorNames, SnellConfig, sparseDelta } from '@fedsnell/snell';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import { aggregationGaps, ExactDelta, exactSparseAverage, moduleGap } from './aggregation-gap';
import { isPositiveFinite, requireOption } from './options';
import { snellModules } from './snell-modules';
import { exampleWeights, sharedNames, weightedSum } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, Strategy } from './types';

export interface SnellExactOptions {
  /** The task's SNELL configuration (resolved): the gap depends on kernel, heads, sparsity. */
  snell: SnellConfig;
  /** Adam steps fitting each module's global factors to the exact mean; 0 only measures the gap. */
  refitSteps?: number;
  /** Adam learning rate of the re-fit, in factor units. */
  refitLr?: number;
}

interface Factors {
  A: Float32Array;
  B: Float32Array;
}

/**
 * Fits factors (starting from their example-weighted average) so that S(κ(A, B)) approaches the
 * exact target, minimising ‖S − T‖² / ‖T‖² with Adam. Returns the best iterate seen (the loss of
 * each step is that of the parameters before the step, so the start is always a candidate).
 */
function refit(start: { A: NamedTensor; B: NamedTensor }, target: ExactDelta, cfg: SnellConfig, steps: number, lr: number): Factors {
  // tidy: tf.variable keeps its own reference to the data, the initial tensor handle must go.
  const A = tf.tidy(() => tf.variable(tf.tensor3d(start.A.data, start.A.shape as [number, number, number])));
  const B = tf.tidy(() => tf.variable(tf.tensor3d(start.B.data, start.B.shape as [number, number, number])));
  const T = tf.tensor2d(target.data, target.shape);
  const optimizer = tf.train.adam(lr);
  let best: Factors = { A: Float32Array.from(start.A.data), B: Float32Array.from(start.B.data) };
  let bestLoss = Infinity;
  try {
    const normT = tf.tidy(() => tf.sum(tf.square(T)).dataSync()[0]) || 1;
    const lossOf = (): tf.Scalar =>
      tf.tidy(() => tf.div<tf.Scalar>(tf.sum(tf.square(tf.sub(sparseDelta(A, B, cfg), T))), normT));
    for (let step = 0; step <= steps; step++) {
      const before = { A: A.dataSync().slice() as Float32Array, B: B.dataSync().slice() as Float32Array };
      // The last pass only scores the final parameters; it does not step.
      const loss = step < steps ? optimizer.minimize(lossOf, true, [A, B]) : lossOf();
      const value = loss ? loss.dataSync()[0] : Infinity;
      loss?.dispose();
      if (value < bestLoss) {
        bestLoss = value;
        best = before;
      }
    }
  } finally {
    optimizer.dispose();
    A.dispose();
    B.dispose();
    T.dispose();
  }
  return best;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * SNELL-exact aggregation (SNELL.md §5): averaging factors is not averaging sparse updates, so the
 * server computes each client's S(κ(A_k, B_k)), takes their example-weighted mean T exactly, and
 * re-fits the global factors of every module to T, keeping the fit only where it lowers the gap
 * ‖S(κ(A, B)) − T‖ / ‖T‖ below that of the plain factor average. Dense trainables (head, cls_token)
 * are averaged as in FedAvg. Returns the per-module gaps of the global it hands out.
 */
export function snellExact(options: SnellExactOptions): Strategy {
  const cfg = options.snell;
  const refitSteps = options.refitSteps ?? 50;
  const refitLr = options.refitLr ?? 1e-3;
  requireOption(Number.isSafeInteger(refitSteps) && refitSteps >= 0, 'snellExact()', 'refitSteps', 'be an integer ≥ 0', refitSteps);
  requireOption(isPositiveFinite(refitLr), 'snellExact()', 'refitLr', 'be a finite number > 0', refitLr);
  const where = 'snell-exact.aggregate()';

  return {
    name: 'snell-exact',
    async aggregate(_ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      if (updates.length === 0) return null;
      const state: TensorMap = weightedSum(sharedNames(where, updates), updates, exampleWeights(where, updates));
      const targets = exactSparseAverage(updates, cfg);
      const averageGaps = aggregationGaps(updates, state, cfg, targets);
      const gaps: Record<string, number> = { ...averageGaps };
      let refitted = 0;
      if (refitSteps > 0) {
        for (const [module, start] of snellModules(where, state)) {
          const target = targets.get(module) as ExactDelta;
          const fit = refit(start, target, cfg, refitSteps, refitLr);
          const fitA = { shape: [...start.A.shape], data: fit.A };
          const fitB = { shape: [...start.B.shape], data: fit.B };
          const gap = moduleGap(computeSparseDelta(fitA, fitB, cfg).delta, target.data);
          if (gap < averageGaps[module]) {
            const [nameA, nameB] = factorNames(module);
            state.set(nameA, fitA);
            state.set(nameB, fitB);
            gaps[module] = gap;
            refitted += 1;
          }
          // Other work (sockets, timers) gets a turn between modules of a large model.
          await nextTask();
        }
      }
      const values = Object.values(gaps);
      const averageValues = Object.values(averageGaps);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
      return {
        state,
        gaps,
        sparseDeltas: targets,
        info: {
          clients: updates.length,
          modules: values.length,
          refitted,
          meanGap: mean(values),
          maxGap: values.length ? Math.max(...values) : 0,
          meanGapFactorAverage: mean(averageValues),
        },
      };
    },
    summary: () => ({
      name: 'snell-exact',
      weighting: 'numExamples',
      refitSteps,
      refitLr,
      snell: describeSnellConfig(cfg).text,
    }),
  };
}
