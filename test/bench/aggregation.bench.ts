// Benchmark (not a jest test): wire size of one client update and server aggregation time for N
// synthetic ViT-B/16 r = 8 SNELL updates (factors of all 72 modules + a 10-class head + cls_token).
// Run: npx tsx --tsconfig tsconfig.base.json test/bench/aggregation.bench.ts [--clients 100] [--exact-clients N]
// Prints one JSON object. Synthetic updates are reference-initialised factors with seeded noise:
// aggregation cost does not depend on whether the numbers came from training.
import { encodePayload, encodeTensor } from '@fedsnell/protocol';
import {
  aggregationGaps,
  coordinateMedian,
  exactSparseAverage,
  fedAdam,
  fedAvg,
  snellExact,
  trimmedMean,
  type ClientUpdate,
  type Strategy,
} from '@fedsnell/federation';
import { createRng, factorNames, initSnellFactors, resolveSnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import { useBackend } from '@fedsnell/backends';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CLIENTS = arg('--clients', 100);
const EXACT_CLIENTS = arg('--exact-clients', CLIENTS);
const D = 768;
const HIDDEN = 3072;
const DEPTH = 12;
const CLASSES = 10;
const snell = resolveSnellConfig({ rank: 8, heads: 2, sparsity: 0.9 });

function vitBState(seed: number, dims = { d: D, hidden: HIDDEN, depth: DEPTH }): TensorMap {
  const { d: D_, hidden: HIDDEN_, depth } = dims;
  const rng = createRng(seed);
  const state: TensorMap = new Map();
  for (let b = 0; b < depth; b++) {
    for (const [m, inF, outF] of [
      ['attn.q', D_, D_],
      ['attn.k', D_, D_],
      ['attn.v', D_, D_],
      ['attn.proj', D_, D_],
      ['mlp.fc1', D_, HIDDEN_],
      ['mlp.fc2', HIDDEN_, D_],
    ] as const) {
      const { A, B } = initSnellFactors(inF, outF, snell, rng);
      const [nameA, nameB] = factorNames(`blocks.${b}.${m}`);
      state.set(nameA, A).set(nameB, B);
    }
  }
  const head = new Float32Array(CLASSES * D_).map(() => (rng() - 0.5) * 0.04);
  state.set('head.weight', { shape: [CLASSES, D_], data: head });
  state.set('head.bias', { shape: [CLASSES], data: new Float32Array(CLASSES) });
  state.set('cls_token', { shape: [1, 1, D_], data: new Float32Array(D_).map(() => (rng() - 0.5) * 0.02) });
  return state;
}

function wireBytes(state: TensorMap, dtype: 'f32' | 'f16'): number {
  const tensors = [...state].map(([name, t]) => encodeTensor(name, t.shape, t.data, dtype));
  return encodePayload({ taskId: 'bench', round: 0, tensors, numExamples: 100, metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 10, seconds: 1 } }).length;
}

async function timeStrategy(strategy: Strategy, global: TensorMap, updates: ClientUpdate[]): Promise<number> {
  const t0 = performance.now();
  await strategy.aggregate({ round: 0, global, rng: createRng(1) }, updates);
  return performance.now() - t0;
}

async function main() {
  await useBackend('wasm');
  const global = vitBState(0);
  const floats = [...global.values()].reduce((a, t) => a + t.data.length, 0);
  process.stderr.write(`making ${CLIENTS} synthetic updates of ${floats} floats each\n`);
  const updates: ClientUpdate[] = [];
  for (let k = 0; k < CLIENTS; k++) updates.push({ clientId: `c${k}`, numExamples: 50 + k, state: vitBState(k + 1) });

  // the test backbone (shared/fixtures/vit-timm-tiny: embed 32, depth 2, mlp 128) at the same r = 8
  const tiny = vitBState(0, { d: 32, hidden: 128, depth: 2 });
  const testBackbone = {
    model: 'vit-timm-tiny fixture (embed 32, depth 2, mlp 128), SNELL r=8 on all 12 modules, 10-class head, cls_token',
    floatsPerUpdate: [...tiny.values()].reduce((a, t) => a + t.data.length, 0),
    bytesPerUpdate: { f32: wireBytes(tiny, 'f32'), f16: wireBytes(tiny, 'f16') },
  };
  const timesMs: Record<string, number> = {};
  for (const [name, s] of [
    ['fedavg', fedAvg()],
    ['fedadam', fedAdam()],
    ['median', coordinateMedian()],
    ['trimmed-mean-0.1', trimmedMean({ beta: 0.1 })],
  ] as const) {
    process.stderr.write(`${name}…\n`);
    timesMs[name] = await timeStrategy(s, global, updates);
  }
  const exactUpdates = updates.slice(0, EXACT_CLIENTS);
  process.stderr.write(`exact sparse mean over ${exactUpdates.length} clients…\n`);
  let t0 = performance.now();
  const targets = exactSparseAverage(exactUpdates, snell);
  const exactMeanMs = performance.now() - t0;
  t0 = performance.now();
  const gaps = aggregationGaps(exactUpdates, (await fedAvg().aggregate({ round: 0, global, rng: createRng(1) }, exactUpdates))?.state ?? global, snell, targets);
  const gapMs = performance.now() - t0;
  process.stderr.write('snell-exact with 5 refit steps…\n');
  const exactWithRefitMs = await timeStrategy(snellExact({ snell, refitSteps: 5 }), global, exactUpdates);
  const gapValues = Object.values(gaps);

  process.stdout.write(
    `${JSON.stringify({
      machine: '2-core CPU, Node 20, tfjs wasm backend for the refit; merges in float64 JS',
      model: 'ViT-B/16 (embed 768, depth 12, mlp 3072), SNELL r=8 heads=2 s=0.9 on q,k,v,proj,fc1,fc2 of every block, 10-class head, cls_token',
      floatsPerUpdate: floats,
      bytesPerUpdate: { f32: wireBytes(global, 'f32'), f16: wireBytes(global, 'f16') },
      bytesPerClientPerRound: { f32: 2 * wireBytes(global, 'f32'), f16: 2 * wireBytes(global, 'f16'), note: 'round:start down + update up, msgpack framing included' },
      testBackbone,
      clients: CLIENTS,
      aggregationMs: timesMs,
      exact: {
        clients: exactUpdates.length,
        exactSparseMeanMs: exactMeanMs,
        perClientMergeMs: exactMeanMs / exactUpdates.length,
        gapMeasurementMs: gapMs,
        snellExactWith5RefitStepsMs: exactWithRefitMs,
        factorAverageGap: { mean: gapValues.reduce((a, b) => a + b, 0) / gapValues.length, max: Math.max(...gapValues) },
      },
    })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`aggregation bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
