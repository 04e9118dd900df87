import * as tf from '@tensorflow/tfjs';
import { describeSnellConfig, factorNames, SnellConfig, sparseDelta } from '@fedsnell/snell';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import { errorMessage } from '@fedsnell/util';
import type { ExactDelta } from './aggregation-gap';
import { isPositiveFinite, requireOption } from './options';
import { snellModules, type SnellModuleFactors } from './snell-modules';
import { inThreadSparseDeltas, type SparseDeltaEngine } from './sparse-deltas';
import { exampleWeights, RunningWeightedSum, sharedNames, weightedSum } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, Strategy } from './types';

export interface SnellExactOptions {
  /** The task's SNELL configuration (resolved): the gap depends on kernel, heads, sparsity. */
  snell: SnellConfig;
  /**
   * Adam steps fitting each module's global factors to the exact mean, once per round (default 0:
   * the next round starts from the factor average and the gap is only measured). The evaluated
   * model is the exact mean either way; the re-fit only moves the factors the next round starts
   * from, and each step costs about two S(κ) passes over the model on tfjs in the main thread
   * (18.6 s at ViT-B r = 8 on a shared 2-core CPU), so a task sizes it to its round budget.
   */
  refitSteps?: number;
  /** Adam learning rate of the re-fit, in factor units. */
  refitLr?: number;
  /**
   * Where each client's S(κ(A_k, B_k)) is computed and summed: this thread by default; worker
   * threads with `workerSparseDeltas` from `@fedsnell/federation/node`.
   */
  sparseDeltas?: SparseDeltaEngine;
}

/** The running sum of one round's accepted updates (Strategy.accept). */
interface Stream {
  round: number;
  /** clientId + numExamples of every update summed, in acceptance order */
  keys: string[];
  modules: string[] | null;
  total: number;
  pending: Promise<void>;
  /** why the sums cannot be used (aggregate then sums every update again) */
  broken: string | null;
  /** Σ n_k · x_k of every tensor (the dense average); null once an update did not match the first */
  dense: RunningWeightedSum | null;
}

const keyOf = (update: ClientUpdate): string => `${update.clientId}\u0000${update.numExamples}`;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((k, i) => k === y[i]);
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

/** Σ_k n_k · S_k / Σ_k n_k over `updates`, through the engine (its sums are replaced). */
async function sumAll(engine: SparseDeltaEngine, where: string, updates: readonly ClientUpdate[]): Promise<Map<string, ExactDelta>> {
  await engine.clear();
  let first: string[] | null = null;
  let total = 0;
  for (const update of updates) {
    const modules = snellModules(where, update.state);
    const names = [...modules.keys()];
    if (!first) first = names;
    else if (!sameKeys(first, names)) throw new Error(`${where}: client ${update.clientId} sent adapted modules [${names}] but client ${updates[0].clientId} [${first}]`);
    total += update.numExamples;
    await engine.accumulate(modules, update.numExamples);
  }
  return engine.take(total);
}

/**
 * SNELL-exact aggregation (SNELL.md §5): averaging factors is not averaging sparse updates, so the
 * server computes each client's S(κ(A_k, B_k)), takes their example-weighted mean T exactly, and
 * re-fits the global factors of every module to T, keeping the fit only where it lowers the gap
 * ‖S(κ(A, B)) − T‖ / ‖T‖ below that of the plain factor average. Dense trainables (head, cls_token)
 * are averaged as in FedAvg. Returns the per-module gaps of the global it hands out.
 *
 * Streaming: `accept` sums each accepted update's S(κ(A_k, B_k)) as it arrives (one float64
 * accumulator per module, never every client's copy) and the dense average (one float64 copy of
 * the trainables), so `aggregate` only normalises, measures the factor average's gap and re-fits
 * when the updates it gets are the ones accepted this round; otherwise it sums them then.
 */
export function snellExact(options: SnellExactOptions): Strategy {
  const cfg = options.snell;
  const refitSteps = options.refitSteps ?? 0;
  const refitLr = options.refitLr ?? 1e-3;
  requireOption(Number.isSafeInteger(refitSteps) && refitSteps >= 0, 'snellExact()', 'refitSteps', 'be an integer ≥ 0', refitSteps);
  requireOption(isPositiveFinite(refitLr), 'snellExact()', 'refitLr', 'be a finite number > 0', refitLr);
  const where = 'snell-exact.aggregate()';

  const engine = options.sparseDeltas ?? inThreadSparseDeltas(cfg);
  let stream: Stream | null = null;

  return {
    name: 'snell-exact',
    /**
     * Starts one accepted update's exact sparse update S(κ(A_k, B_k)) on the engine and adds it,
     * weighted by its example count, to the round's running sums; the round's close then only
     * normalises them and re-fits. An update it cannot use leaves the sums to be redone at close.
     */
    accept(ctx: AggregationContext, update: ClientUpdate): void {
      if (!stream || stream.round !== ctx.round) {
        const fresh: Stream = { round: ctx.round, keys: [], modules: null, total: 0, pending: Promise.resolve(), broken: null, dense: new RunningWeightedSum() };
        fresh.pending = engine.clear().catch((error: unknown) => {
          fresh.broken ??= errorMessage(error);
        });
        stream = fresh;
      }
      const s = stream;
      s.keys.push(keyOf(update));
      if (s.broken) return;
      let modules: Map<string, SnellModuleFactors>;
      try {
        exampleWeights('snell-exact.accept()', [update]);
        modules = snellModules('snell-exact.accept()', update.state);
      } catch (error) {
        s.broken = errorMessage(error);
        return;
      }
      const names = [...modules.keys()];
      if (s.modules && !sameKeys(s.modules, names)) {
        s.broken = `client ${update.clientId} sent other adapted modules than the first update`;
        return;
      }
      s.modules ??= names;
      s.total += update.numExamples;
      if (s.dense && !s.dense.add(update.state, update.numExamples)) s.dense = null;
      const added = engine.accumulate(modules, update.numExamples).catch((error: unknown) => {
        s.broken ??= errorMessage(error);
      });
      s.pending = Promise.all([s.pending, added]).then(() => undefined);
    },
    async aggregate(ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      const s = stream;
      stream = null;
      if (updates.length === 0) {
        if (s) await s.pending.then(() => engine.clear());
        return null;
      }
      const names = sharedNames(where, updates);
      const weights = exampleWeights(where, updates);
      const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
      const current = s && s.round === ctx.round && sameKeys(s.keys, updates.map(keyOf)) ? s : null;
      // the dense average of the accepted updates was summed as they arrived
      const state: TensorMap = current?.dense && !current.broken ? current.dense.mean(names) : weightedSum(names, updates, weights);
      const starts = snellModules(where, state);
      let streamedResult: { gaps: Record<string, number>; targets: Map<string, ExactDelta> } | null = null;
      if (current) {
        await current.pending;
        // gaps first: the engine divides the sums in the same pass, so take only hands the means over
        if (!current.broken) {
          streamedResult = await engine
            .gaps(starts, total)
            .then(async (gaps) => ({ gaps, targets: await engine.take(total) }))
            .catch(() => null);
        }
      } else if (s) await s.pending;
      const streamed = streamedResult !== null;
      const targets = streamedResult?.targets ?? (await sumAll(engine, where, updates));
      for (const module of targets.keys()) {
        if (!starts.has(module)) throw new Error(`${where}: the aggregated state has no factors for module ${module}`);
      }
      const averageGaps = streamedResult?.gaps ?? (await engine.gaps(starts, total));
      const gaps: Record<string, number> = { ...averageGaps };
      let refitted = 0;
      if (refitSteps > 0) {
        const fits = new Map<string, SnellModuleFactors>();
        for (const [module, start] of starts) {
          const target = targets.get(module) as ExactDelta;
          const fit = refit(start, target, cfg, refitSteps, refitLr);
          fits.set(module, { A: { shape: [...start.A.shape], data: fit.A }, B: { shape: [...start.B.shape], data: fit.B } });
          // Other work (sockets, timers) gets a turn between modules of a large model.
          await nextTask();
        }
        const fitGaps = await engine.gaps(fits, total);
        for (const [module, fit] of fits) {
          if (fitGaps[module] < averageGaps[module]) {
            const [nameA, nameB] = factorNames(module);
            state.set(nameA, fit.A);
            state.set(nameB, fit.B);
            gaps[module] = fitGaps[module];
            refitted += 1;
          }
        }
      }
      await engine.clear();
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
          streamed: streamed ? 1 : 0,
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
