import type { Dataset } from '@fedsnell/data';
import { partitionDirichlet, partitionIid, subset } from '@fedsnell/data';
import {
  aggregationGaps,
  fedAvg,
  fedProx,
  snellExact,
  type ClientUpdate,
  type Strategy,
} from '@fedsnell/federation';
import { createRng, resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import { evaluate, train, type TrainerConfig } from '@fedsnell/train';
import { createFullTrainables, createTrainables, foldSparseDeltas, VisionTransformer, type SparseDelta, type VitConfig } from '@fedsnell/vit';
import { meter } from '../../lib/memory-meter';
import type { FederatedSpec, MethodSpec } from './methods';

export interface Budget {
  /** centralized epochs over the training split; federated rounds × local epochs equals it */
  epochs: number;
  batchSize: number;
  rank: number;
  clients: number;
  localEpochs: number;
  alpha: number;
  proximalMu: number;
  refitSteps: number;
}

export interface BenchContext {
  config: VitConfig;
  backbone: TensorMap;
  model: VisionTransformer;
  train: Dataset;
  budget: Budget;
  /** trainer settings shared by every run (the method's lr, seed and options go on top) */
  base: Partial<TrainerConfig>;
  log: (line: string) => void;
}

export interface RunResult {
  /** accuracy on each evaluation set, in the order given */
  accuracy: number[];
  seconds: number;
  /** peak tensor memory above the loaded backbone while training, bytes (largest client for federated) */
  peakBytes: number;
  trainableParams: number;
  /** f32 payload of the trained state a client sends per round (factors or weights + head + cls_token) */
  updateBytes: number;
  /** federated only: mean over rounds and modules of ‖S(κ(Ā, B̄)) − mean_k S_k‖ / ‖mean_k S_k‖ */
  factorAverageGap?: number;
}

const elements = (state: TensorMap) => [...state.values()].reduce((n, t) => n + t.data.length, 0);

export function snellOf(spec: MethodSpec, rank: number): SnellConfig | undefined {
  return spec.trainables === 'adapter' ? resolveSnellConfig({ rank, ...spec.snell }) : undefined;
}

export function initialState(ctx: BenchContext, spec: MethodSpec, seed: number): TensorMap {
  const numClasses = ctx.train.classes.length;
  if (spec.trainables === 'adapter') {
    const snell = snellOf(spec, ctx.budget.rank) as SnellConfig;
    return createTrainables(ctx.model, snell, { numClasses, seed, ...(spec.initScale ? { factorInitScale: spec.initScale } : {}) });
  }
  const full = createFullTrainables(ctx.model, { numClasses, seed });
  return spec.trainables === 'full' ? full : new Map([...full].filter(([name]) => name.startsWith('head.')));
}

function trainerConfig(ctx: BenchContext, spec: MethodSpec, lr: number, seed: number, extra: Partial<TrainerConfig> = {}): Partial<TrainerConfig> {
  return { ...ctx.base, ...spec.trainer, lr, seed, ...extra };
}

/** Scores a state: the adapter forward, or the backbone with given sparse updates folded in (SNELL-exact). */
async function score(ctx: BenchContext, state: TensorMap, snell: SnellConfig | undefined, data: Dataset, deltas?: Map<string, SparseDelta>): Promise<number> {
  if (!deltas) return (await evaluate({ model: ctx.model, data, trainables: state, snell, batchSize: 128 })).accuracy;
  const dense: TensorMap = new Map(['head.weight', 'head.bias', 'cls_token'].filter((n) => state.has(n)).map((n) => [n, state.get(n) as NamedTensor]));
  const merged = VisionTransformer.fromTensors({ ...ctx.config, numClasses: data.classes.length }, foldSparseDeltas(ctx.backbone, deltas, dense, 'quality bench'));
  try {
    return (await evaluate({ model: merged, data, batchSize: 128 })).accuracy;
  } finally {
    merged.dispose();
  }
}

/** One centralized run: train on the whole training split for the budget's epochs, score on `evalSets`. */
export async function runCentral(ctx: BenchContext, spec: MethodSpec, lr: number, seed: number, evalSets: Dataset[]): Promise<RunResult> {
  const snell = snellOf(spec, ctx.budget.rank);
  const initial = initialState(ctx, spec, seed);
  meter.reset();
  const before = meter.bufferBytes;
  const started = performance.now();
  const { state } = await train({ model: ctx.model, data: ctx.train, initial, snell, config: trainerConfig(ctx, spec, lr, seed, { epochs: ctx.budget.epochs }) });
  const seconds = (performance.now() - started) / 1000;
  const peakBytes = meter.peakBufferBytes - before;
  const accuracy: number[] = [];
  for (const data of evalSets) accuracy.push(await score(ctx, state, snell, data));
  return { accuracy, seconds, peakBytes, trainableParams: elements(initial), updateBytes: 4 * elements(initial) };
}

export function clientSplits(ctx: BenchContext, partition: FederatedSpec['partition'], seed: number): Dataset[] {
  const { clients, alpha, batchSize } = ctx.budget;
  const parts =
    partition === 'iid'
      ? partitionIid(ctx.train.labels, clients, seed)
      : partitionDirichlet(ctx.train.labels, clients, alpha, seed, { minPerClient: Math.max(1, Math.min(batchSize, Math.floor(ctx.train.size / clients / 8))) });
  return parts.map((indices) => subset(ctx.train, indices));
}

function strategyOf(ctx: BenchContext, fed: FederatedSpec, snell: SnellConfig): Strategy {
  if (fed.strategy === 'snell-exact') return snellExact({ snell, refitSteps: ctx.budget.refitSteps });
  if (fed.strategy === 'fedprox') return fedProx({ proximalMu: ctx.budget.proximalMu });
  return fedAvg();
}

/**
 * One federated run in process: every client trains `localEpochs` per round from the global state,
 * the strategy aggregates, for epochs / localEpochs rounds (the same examples × epochs as the
 * centralized run). Scores what the coordinator evaluates: the exact mean of the clients' sparse
 * updates for SNELL-exact, the adapter of the global factors otherwise.
 */
export async function runFederated(
  ctx: BenchContext,
  fed: FederatedSpec,
  spec: MethodSpec,
  lr: number,
  seed: number,
  evalSets: Dataset[],
): Promise<RunResult> {
  const snell = snellOf(spec, ctx.budget.rank) as SnellConfig;
  const { clients: k, localEpochs } = ctx.budget;
  const rounds = Math.max(1, Math.round(ctx.budget.epochs / localEpochs));
  const splits = clientSplits(ctx, fed.partition, seed);
  const strategy = strategyOf(ctx, fed, snell);
  const rng = createRng(seed + 17);
  let global = initialState(ctx, spec, seed);
  const params = elements(global);
  let deltas: Map<string, SparseDelta> | undefined;
  let peakBytes = 0;
  const gaps: number[] = [];
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    const updates: ClientUpdate[] = [];
    for (let c = 0; c < k; c++) {
      meter.reset();
      const before = meter.bufferBytes;
      const proximalMu = fed.strategy === 'fedprox' ? ctx.budget.proximalMu : 0;
      const clientSeed = seed * 100_003 + round * 101 + c;
      const { state } = await train({
        model: ctx.model,
        data: splits[c],
        initial: global,
        snell,
        config: trainerConfig(ctx, spec, lr, clientSeed, { ...fed.trainer, epochs: localEpochs, proximalMu }),
      });
      peakBytes = Math.max(peakBytes, meter.peakBufferBytes - before);
      updates.push({ clientId: `c${c}`, numExamples: splits[c].size, state });
    }
    const result = await strategy.aggregate({ round, global, rng }, updates);
    if (!result) throw new Error(`quality bench: ${fed.strategy} kept the previous global in round ${round}`);
    const factorAverage = fed.strategy === 'snell-exact' ? Number(result.info?.['meanGapFactorAverage']) : mean(Object.values(aggregationGaps(updates, result.state, snell)));
    gaps.push(factorAverage);
    global = result.state;
    deltas = result.sparseDeltas;
  }
  const seconds = (performance.now() - started) / 1000;
  const accuracy: number[] = [];
  for (const data of evalSets) accuracy.push(await score(ctx, global, snell, data, deltas));
  return { accuracy, seconds, peakBytes, trainableParams: params, updateBytes: 4 * params, factorAverageGap: mean(gaps) };
}

export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
