/**
 * Training-step benchmark: images/s and peak tensor memory of one optimizer step (forward + backward
 * + AdamW, as train() runs it) for SNELL, LoRA, full fine-tuning and mask-based sparse tuning, per
 * backend, with a PyTorch CPU baseline and the share of merge+quantile in the SNELL step.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/train-step.bench.ts [--quick] [--batch N] [--steps N]
 *       [--configs demo-32,vit-ti-224,vit-s-224] [--methods snell,lora,full,mask] [--checkpoint off|on|both]
 *       [--cpu-all] [--no-regularisation] [--no-torch] [--no-parallel] [--workers N] [--torch-threads N]
 *       [--no-default-client] [--default-client-only]
 * (flags explained in test/bench/README.md)
 *
 * Prints one JSON object on stdout; progress goes to stderr. Not a jest test.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { VisionTransformer } from '@fedsnell/vit';
import { DEMO, VIT_S, VIT_TI, configJson, randomBackbone, randomBatch, type BenchModelSpec } from './lib/random-backbone';
import { METHODS, setupMethod, type MethodName } from './lib/methods';
import { measureSteps, round3 } from './lib/step';
import { timeSparseDeltaAllModules } from './lib/merge-share';
import { runTorch, type TorchResult } from './lib/torch-baseline';
import { realGpuAdapter } from './lib/webgpu-probe';
import { measureParallelSpeedup } from './lib/parallel-speedup';
import { meter } from './lib/memory-meter';
import { timeDefaultClient, type DefaultClientTiming } from './lib/default-client';

interface Args {
  quick: boolean;
  /** per config name */
  batch: Record<string, number>;
  methods: MethodName[];
  regularisation: boolean;
  /** gradient checkpointing per block in VisionTransformer.forward */
  checkpoint: boolean[];
  steps: number;
  warmup: number;
  configs: string[];
  cpuAll: boolean;
  torch: boolean;
  parallel: boolean;
  workers: number;
  torchThreads: number;
  /** time `train` as the Node client runs it (workers 'auto', trainer defaults) against torch */
  defaultClient: boolean;
  /** only the default-client rows and their torch baseline */
  defaultClientOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string, fallback: number): number => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} passed to train-step.bench must be a positive integer but got '${v}'`);
    return n;
  };
  const all = [DEMO.name, VIT_TI.name, VIT_S.name];
  const configs = (value('--configs') ?? all.join(',')).split(',');
  for (const c of configs) if (!all.includes(c)) throw new Error(`--configs passed to train-step.bench must name ${all.join(', ')} but got '${c}'`);
  const methods = (value('--methods') ?? METHODS.join(',')).split(',') as MethodName[];
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`--methods passed to train-step.bench must name ${METHODS.join(', ')} but got '${m}'`);
  // tfjs keeps every forward intermediate for the backward pass: at 224, batch 8 does not fit the
  // wasm heap (ViT-S batch 4 already fails), hence smaller default batches there.
  const fixed = value('--batch') === undefined ? undefined : int('--batch', 1);
  const batch = {
    [DEMO.name]: fixed ?? 8,
    [VIT_TI.name]: fixed ?? (quick ? 2 : 4),
    [VIT_S.name]: fixed ?? (quick ? 1 : 2),
  };
  const ck = value('--checkpoint') ?? (quick ? 'on' : 'both');
  if (!['off', 'on', 'both'].includes(ck)) throw new Error(`--checkpoint passed to train-step.bench must be off, on or both but got '${ck}'`);
  return {
    quick,
    batch,
    methods,
    checkpoint: ck === 'both' ? [false, true] : [ck === 'on'],
    regularisation: !argv.includes('--no-regularisation'),
    steps: int('--steps', quick ? 1 : 2),
    warmup: 1,
    configs,
    cpuAll: argv.includes('--cpu-all'),
    torch: !argv.includes('--no-torch'),
    parallel: !argv.includes('--no-parallel'),
    workers: int('--workers', 2),
    torchThreads: int('--torch-threads', 2),
    defaultClient: !argv.includes('--no-default-client'),
    defaultClientOnly: argv.includes('--default-client-only'),
  };
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const descriptions: Record<string, string> = {};
const MB = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

interface MethodReport {
  medianStepMs: number;
  stepMs: number[];
  imagesPerSecond: number;
  /** peak bytes of distinct buffers alive (the ratios use it) */
  peakMB: number;
  /** peak tf.memory().numBytes (counts shared buffers per handle) */
  peakNumBytesMB: number;
  /** alive before a step: backbone + trainables + AdamW m/v (+ masks) */
  residentMB: number;
  trainableParams: number;
  peakBytes: number;
}

type MethodOutcome = MethodReport | { error: string };

async function benchBackend(
  backend: BackendName,
  spec: BenchModelSpec,
  args: Args,
  methods: readonly MethodName[],
  checkpoint: boolean,
): Promise<Record<string, MethodOutcome>> {
  await useBackend(backend);
  const { config, tensors } = randomBackbone(spec);
  const model = VisionTransformer.fromTensors(config, tensors);
  const n = args.batch[spec.name];
  const batch = { ...randomBatch(n, spec.img, spec.classes), n, classes: spec.classes };
  const out: Record<string, MethodOutcome> = {};
  try {
    for (const method of methods) {
      const setup = setupMethod(method, model, { rank: 8, sparsity: 0.9, heads: 2, classes: spec.classes });
      try {
        const m = await measureSteps(model, setup, batch, { warmup: args.warmup, steps: args.steps, regularisation: args.regularisation, checkpoint });
        out[method] = {
          medianStepMs: m.medianStepMs,
          stepMs: m.stepMs,
          imagesPerSecond: m.imagesPerSecond,
          peakMB: MB(m.peakBytes),
          peakNumBytesMB: MB(m.peakNumBytes),
          residentMB: MB(m.residentBytes),
          trainableParams: m.trainableParams,
          peakBytes: m.peakBytes,
        };
        descriptions[method] = setup.describe;
        log(`${spec.name} ${backend}${checkpoint ? ' checkpointed' : ''} ${method}: ${m.medianStepMs} ms/step, ${m.imagesPerSecond} img/s, peak ${MB(m.peakBytes)} MB`);
      } catch (err) {
        out[method] = { error: err instanceof Error ? err.message : String(err) };
        log(`${spec.name} ${backend} ${method} failed: ${String(err)}`);
      } finally {
        for (const t of setup.gradientMasks?.values() ?? []) t.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

async function mergeShare(spec: BenchModelSpec, stepMs: number, checkpointedStepMs?: number): Promise<Record<string, unknown>> {
  await useBackend('wasm');
  const { config, tensors } = randomBackbone(spec);
  const model = VisionTransformer.fromTensors(config, tensors);
  try {
    const setup = setupMethod('snell', model, { rank: 8, sparsity: 0.9, heads: 2, classes: spec.classes });
    const t = timeSparseDeltaAllModules(setup.initial, setup.snell as NonNullable<typeof setup.snell>, 2);
    const share = t.medianMs / stepMs;
    log(`${spec.name} sparseDelta over ${t.modules} modules: ${t.medianMs} ms = ${(share * 100).toFixed(1)}% of the SNELL step`);
    return {
      config: spec.name,
      backend: 'wasm',
      method: 'sparseDelta (merge ΔW + exact quantile + S = ΔW·|ΔW|·mask) for every adapted module once, timed alone, vs the median SNELL step',
      modules: t.modules,
      sparseDeltaMs: t.medianMs,
      sparseDeltaRunsMs: t.runsMs,
      snellStepMs: stepMs,
      share: round3(share),
      shareOfCheckpointedStep: checkpointedStepMs ? round3(t.medianMs / checkpointedStepMs) : null,
      target: 0.1,
      meetsTarget: share <= 0.1,
    };
  } finally {
    model.dispose();
  }
}

/** What a client reaches with its defaults, against the torch step of the same batch; targets per config and method. */
const DEFAULT_CLIENT_TARGETS: Record<string, Partial<Record<MethodName, number>>> = {
  [VIT_TI.name]: { snell: 1.0, lora: 0.5 },
  [VIT_S.name]: { snell: 1.5, lora: 0.5 },
};

async function benchDefaultClient(specs: BenchModelSpec[], args: Args, results: Record<string, Record<string, unknown>>): Promise<Record<string, unknown>> {
  const methods = args.methods.filter((m) => m !== 'mask');
  const out: Record<string, unknown> = {
    what:
      'train() of @fedsnell/train/node as the Node client and `fedsnell train` run it by default: workers auto (one per core, at most 4, on wasm, for backbones >= 0.1 GFLOP per image), ' +
      'trainer defaults (per-block checkpointing, adapter dropout 0.1, drop-path 0.1, AdamW); median wall time between optimizer steps after the warm-up; ' +
      'ratio = images/s over the torch step at the same batch (torch_step.py, no block checkpointing); overOneThread = the same run with workers 1 (oneThreadRuns); ' +
      'torchCpuOverOursCpu = torch CPU time per step (all threads) over ours (worker threads included): the work ratio, less distorted by other load than wall time. mask-based tuning is left out (its gradient masks keep it on one thread).',
  };
  for (const spec of specs) {
    const rows: Record<string, DefaultClientTiming | { error: string }> = {};
    const oneThread: Record<string, DefaultClientTiming | { error: string }> = {};
    for (const method of methods) {
      for (const [into, workers] of [[rows, 'auto'], [oneThread, 1]] as const) {
        try {
          const t = await timeDefaultClient(spec, method, { batch: args.batch[spec.name], warmup: args.warmup, steps: Math.max(2, args.steps), workers });
          into[method] = t;
          log(`${spec.name} default client ${method} (workers ${workers}): ${t.workers} worker(s), ${t.medianStepMs} ms/step, ${t.imagesPerSecond} img/s`);
        } catch (err) {
          into[method] = { error: err instanceof Error ? err.message : String(err) };
          log(`${spec.name} default client ${method} (workers ${workers}) failed: ${String(err)}`);
        }
      }
    }
    const torch = results[spec.name]['torch'] as TorchResult | undefined;
    const targets = DEFAULT_CLIENT_TARGETS[spec.name] ?? {};
    const ratios: Record<string, unknown> = {};
    for (const method of methods) {
      const row = rows[method];
      const t = torch?.ok ? torch.methods?.[method] : undefined;
      const ratio = row && !('error' in row) && t ? round3(row.imagesPerSecond / t.imagesPerSecond) : null;
      const target = targets[method];
      const one = oneThread[method];
      const speedup = row && !('error' in row) && one && !('error' in one) ? round3(row.imagesPerSecond / one.imagesPerSecond) : null;
      // torch's CPU time per step over ours: the work ratio, which a busy machine distorts less than wall time
      const cpuRatio = row && !('error' in row) && t?.cpuMsPerStep ? round3(t.cpuMsPerStep / row.cpuMsPerStep) : null;
      ratios[method] = {
        overTorch: ratio,
        target: target ?? null,
        meetsTarget: target === undefined || ratio === null ? null : ratio >= target,
        overOneThread: speedup,
        torchCpuOverOursCpu: cpuRatio,
      };
    }
    out[spec.name] = { runs: rows, oneThreadRuns: oneThread, overTorchImagesPerSecond: ratios };
  }
  return out;
}

function ok(r: MethodOutcome | undefined): MethodReport | undefined {
  return r && !('error' in r) ? r : undefined;
}

function ratios(r: Record<string, MethodOutcome>): Record<string, unknown> {
  const q = (a: MethodName, b: MethodName) => {
    const x = ok(r[a]);
    const y = ok(r[b]);
    return x && y ? round3(x.peakBytes / y.peakBytes) : null;
  };
  const snellLora = q('snell', 'lora');
  const snellMask = q('snell', 'mask');
  return {
    snellOverLoraPeakMemory: snellLora,
    snellOverLoraTarget: 1.1,
    snellOverLoraMeetsTarget: snellLora === null ? null : snellLora <= 1.1,
    snellOverMaskPeakMemory: snellMask,
    snellOverMaskTarget: 0.7,
    snellOverMaskMeetsTarget: snellMask === null ? null : snellMask <= 0.7,
    snellOverFullPeakMemory: q('snell', 'full'),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  meter.install();
  const started = Date.now();
  const specs = [DEMO, VIT_TI, VIT_S].filter((s) => args.configs.includes(s.name));
  const report: Record<string, unknown> = {
    bench: 'train-step',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadAverageAtStart: os.loadavg().map(round3) },
    settings: {
      quick: args.quick,
      checkpoint: args.checkpoint.map((c) => (c ? 'per-block gradient checkpointing (forward option checkpoint: true)' : 'none (as train() runs today)')),
      batch: args.batch,
      warmupSteps: args.warmup,
      measuredSteps: args.steps,
      rank: 8,
      sparsity: 0.9,
      snellHeads: 2,
      classes: 10,
      regularisation: args.regularisation
        ? 'adapter dropout 0.1, drop-path 0.1 (train() defaults; they apply to SNELL/LoRA adapter branches only)'
        : 'adapter dropout 0, drop-path 0 (--no-regularisation)',
      optimizer: 'AdamW from @fedsnell/train, β 0.9/0.999 eps 1e-8 wd 1e-4 (train() defaults)',
    },
    weights: 'seeded random tensors of the right shapes, made in the bench (a speed benchmark needs no pretrained weights); input: seeded random images',
    configs: Object.fromEntries(specs.map((s) => [s.name, configJson(s)['model_args']])),
    memoryMethod:
      'the tfjs engine is instrumented before any tensor exists (its public trackTensor/removeDataId are wrapped) and sampled at every tensor registration, ' +
      'including those inside custom gradients and the optimizer, over the measured steps. peakBytes = max bytes of distinct data buffers alive (the ratios use it); ' +
      'peakNumBytes = max tf.memory().numBytes, which counts a buffer once per handle (reshapes, tensors saved for backward) and so overstates. ' +
      'Both subtract the frozen backbone tensors that trainables replace (full/mask would not keep that duplicate; SNELL/LoRA: head + cls_token only). ' +
      'Includes backbone, trainables, AdamW m/v, masks, activations, gradients; excludes the wasm heap scratch inside single kernels.',
    timingMethod: 'median wall time of the measured steps after warm-up; each step ends with a dataSync of the loss',
  };

  const results: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) results[spec.name] = {};

  const full = !args.defaultClientOnly;
  // wasm: every config, without and with per-block gradient checkpointing
  for (const spec of full ? specs : []) {
    for (const checkpoint of args.checkpoint) {
      const key = checkpoint ? 'wasmCheckpointed' : 'wasm';
      const wasm = await benchBackend('wasm', spec, args, args.methods, checkpoint);
      results[spec.name][key] = wasm;
      results[spec.name][checkpoint ? 'ratiosWasmCheckpointed' : 'ratiosWasm'] = ratios(wasm);
    }
  }
  // cpu (pure JS kernels): far slower, so the demo config only unless --cpu-all
  for (const spec of full ? specs : []) {
    if (spec !== DEMO && !args.cpuAll) {
      results[spec.name]['cpu'] = 'skipped: the cpu backend (pure JS) takes minutes per step at 224; run with --cpu-all';
      continue;
    }
    const cpu = await benchBackend('cpu', spec, args, args.methods, false);
    results[spec.name]['cpu'] = cpu;
    results[spec.name]['ratiosCpu'] = ratios(cpu);
  }
  const gpu = full ? await realGpuAdapter() : { ok: false, note: 'not measured (--default-client-only)' };
  if (gpu.ok) {
    for (const spec of specs) results[spec.name]['webgpu'] = await benchBackend('webgpu', spec, args, args.methods, false);
  }
  report['webgpu'] = gpu.ok ? { measured: true, adapter: gpu.note } : { measured: false, note: gpu.note };

  const sSpec = specs.includes(VIT_S) ? VIT_S : specs[specs.length - 1];
  const snellStep = (key: string) => ok((results[sSpec.name][key] as Record<string, MethodOutcome> | undefined)?.['snell'])?.medianStepMs;
  const mainStep = snellStep(args.checkpoint[0] ? 'wasmCheckpointed' : 'wasm');
  if (full) report['mergeQuantileShare'] = mainStep
    ? await mergeShare(sSpec, mainStep, args.checkpoint.length > 1 ? snellStep('wasmCheckpointed') : undefined)
    : { measured: false, note: `no SNELL step measured at ${sSpec.name}` };

  if (args.torch) {
    for (const spec of specs) {
      log(`${spec.name} torch baseline`);
      const torch: TorchResult = runTorch(spec, {
        batch: args.batch[spec.name], rank: 8, sparsity: 0.9, heads: 2, warmup: args.warmup, steps: args.steps, threads: args.torchThreads, methods: [...args.methods],
      });
      results[spec.name]['torch'] = torch;
      const wasm = results[spec.name][args.checkpoint[0] ? 'wasmCheckpointed' : 'wasm'] as Record<string, MethodOutcome> | undefined;
      if (wasm && torch.ok && torch.methods) {
        results[spec.name]['wasmOverTorchImagesPerSecond'] = Object.fromEntries(
          args.methods.map((m) => {
            const w = ok(wasm[m]);
            const t = torch.methods?.[m];
            return [m, w && t ? round3(w.imagesPerSecond / t.imagesPerSecond) : null];
          }),
        );
      }
    }
    report['torchBaseline'] = {
      comparedWith: `wasm ${args.checkpoint[0] ? 'with' : 'without'} block checkpointing (torch checkpoints only the SNELL adapter branch, as the reference)`,
      python: '/usr/bin/python3 (Debian python3-torch)',
      env: 'OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed, OMP_WAIT_POLICY=PASSIVE (spinning OpenMP threads collapse on a shared 2-core machine)',
      threads: args.torchThreads,
      semantics:
        'timm-shaped ViT; SNELL: ΔW = Σ_h c_h·cdist(A_h, B_h), τ = torch.quantile(|ΔW|, s), S = ΔW·|ΔW|.detach()·[|ΔW| > τ], adapter branch checkpointed (ΔW recomputed in backward); ' +
        'LoRA: A₀·B₀ᵀ dense; mask: hooks multiply grads of qkv/proj/fc1/fc2 weights by fixed masks; adapter dropout 0.1 (no drop-path); torch.optim.AdamW',
    };
  }

  if (args.defaultClient) {
    await useBackend('wasm');
    report['defaultClient'] = await benchDefaultClient(specs, args, results);
  }

  if (args.parallel && full) {
    // without block checkpointing, as the torch baseline runs, so the two can be compared directly
    const parallel = await measureParallelSpeedup(VIT_TI, { batch: args.batch[VIT_TI.name], steps: args.steps, warmup: args.warmup, workers: args.workers, regularisation: args.regularisation, checkpoint: false, log });
    const runs = parallel['runs'] as { workers: number; imagesPerSecond: number }[];
    const best = runs.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
    const torch = (results[VIT_TI.name] as { torch?: { ok?: boolean; methods?: Record<string, { imagesPerSecond: number }> } } | undefined)?.torch;
    const torchSnell = torch?.ok ? torch.methods?.['snell']?.imagesPerSecond : undefined;
    report['parallel'] = {
      ...parallel,
      // forward + backward over the workers (AdamW on the factors, a few ms, left out) vs torch's full step
      snellWorkersOverTorchImagesPerSecond: torchSnell ? round3(best.imagesPerSecond / torchSnell) : null,
      workersInThatRatio: best.workers,
    };
  }

  report['methods'] = descriptions;
  report['results'] = results;
  report['machine'] = { ...(report['machine'] as object), loadAverageAtEnd: os.loadavg().map(round3) };
  report['wallSeconds'] = Math.round((Date.now() - started) / 1000);
  tf.disposeVariables();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`train-step.bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
