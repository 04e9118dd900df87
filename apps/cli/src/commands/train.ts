import { resolve } from 'node:path';
import type { Command } from 'commander';
import { adaptedModules, DEFAULT_SNELL_CONFIG, encodeAdapter, resolveSnellConfig, describeSnellConfig, snellDefaultsFor, type SnellConfig } from '@fedsnell/snell';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { createTrainables } from '@fedsnell/vit';
import { DEFAULT_TRAINER_CONFIG, evaluate, resolveTrainerConfig, totalStepsFor, type EvalResult } from '@fedsnell/train';
import { autoWorkerCount, train } from '@fedsnell/train/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { loadBackbone, openData, selectTrainingCompute } from '../lib/load';
import { progressBar } from '../lib/progress';
import { errorMessage } from '@fedsnell/util';

interface TrainOpts {
  backbone: string;
  data: string;
  out: string;
  evalData?: string;
  kernel: string;
  p: number;
  scale?: number;
  heads?: number;
  rank: number;
  sparsity?: number;
  threshold: string;
  epochs: number;
  maxSteps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  warmupEpochs: number;
  minLr: number;
  adapterDropout: number;
  dropPath: number;
  seed: number;
  factorLrScale: number;
  factorInitScale: number;
  denseWarmupEpochs: number;
  sparsityRampEpochs: number;
  logitAdjustment: number;
  checkpoint?: boolean;
  workers: string;
  backend: string;
  json?: boolean;
}

// Defaults come from the libraries (DEFAULT_SNELL_CONFIG, snellDefaultsFor, DEFAULT_TRAINER_CONFIG),
// except the epoch count: a centralized run trains 10 epochs, a federated round's local run 1.
const SNELL = DEFAULT_SNELL_CONFIG;
const LINEAR = snellDefaultsFor('linear');
const TRAINER = DEFAULT_TRAINER_CONFIG;
const CENTRALIZED_EPOCHS = 10;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('centralized SNELL fine-tuning on an ImageFolder; writes an adapter .safetensors')
    .requiredOption('--backbone <dir>', 'timm-layout backbone folder')
    .requiredOption('--data <dir>', 'training ImageFolder')
    .requiredOption('--out <file>', 'adapter file to write')
    .option('--eval-data <dir>', 'ImageFolder to score the trained adapter on')
    .option('--kernel <name>', 'distance (SNELL) | linear (LoRA baseline)', SNELL.kernel)
    .option('--p <n>', 'distance kernel norm: 1 or 2', numberOption('--p', 1, 2, true), SNELL.p)
    .option('--scale <x>', `head coefficient scale c_h = scale·(-1)^h (default ${SNELL.scale} for distance; linear has none: ${LINEAR.scale})`, numberOption('--scale', 0, 1e6))
    .option('--heads <n>', `kernel heads (default ${SNELL.heads} for distance, ${LINEAR.heads} for linear)`, numberOption('--heads', 1, 64, true))
    .option('--rank <n>', 'factor rank r', numberOption('--rank', 1, 4096, true), SNELL.rank)
    .option('--sparsity <s>', `sparsity ratio in [0,1); 0 = dense (default ${SNELL.sparsity} for distance, ${LINEAR.sparsity} for linear: plain LoRA)`, numberOption('--sparsity', 0, 0.999999))
    .option('--threshold <mode>', "reference (S = ΔW·|ΔW|·mask) | soft (the paper's ΔW·max(|ΔW|−τ,0))", SNELL.threshold)
    .option('--epochs <n>', 'epochs', numberOption('--epochs', 1, 100000, true), CENTRALIZED_EPOCHS)
    .option('--max-steps <n>', 'stop after n optimizer steps (0 = no limit)', numberOption('--max-steps', 0, 1e9, true), TRAINER.maxSteps)
    .option('--batch <n>', 'batch size', numberOption('--batch', 1, 4096, true), TRAINER.batchSize)
    .option('--lr <x>', 'peak learning rate', numberOption('--lr', 1e-12, 10), TRAINER.lr)
    .option('--weight-decay <x>', 'decoupled weight decay on factors and head weight', numberOption('--weight-decay', 0, 10), TRAINER.weightDecay)
    .option('--warmup-epochs <x>', 'linear warm-up epochs', numberOption('--warmup-epochs', 0, 1e5), TRAINER.warmupEpochs)
    .option('--min-lr <x>', 'floor of the cosine schedule', numberOption('--min-lr', 0, 10), TRAINER.minLr)
    .option('--adapter-dropout <x>', 'dropout on the adapter input', numberOption('--adapter-dropout', 0, 0.99), TRAINER.adapterDropout)
    .option('--drop-path <x>', 'drop-path on the adapter output', numberOption('--drop-path', 0, 0.99), TRAINER.dropPath)
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', numberOption('--seed', 0, 2 ** 31 - 1, true), TRAINER.seed)
    .option('--factor-lr-scale <x>', 'learning-rate multiplier for the adapter factors only (1 = one rate for all, the reference)', numberOption('--factor-lr-scale', 1e-6, 1e6), TRAINER.factorLrScale)
    .option('--factor-init-scale <x>', 'multiplies the reference factor initialisation (1 = the reference)', numberOption('--factor-init-scale', 1e-6, 1e6), 1)
    .option('--dense-warmup-epochs <x>', 'train the first epochs dense (sparsity 0, KLoRA), then switch sparsity on', numberOption('--dense-warmup-epochs', 0, 1e5), TRAINER.denseWarmupEpochs)
    .option('--sparsity-ramp-epochs <x>', 'after the dense warm-up, ramp sparsity linearly from 0 to --sparsity over these epochs', numberOption('--sparsity-ramp-epochs', 0, 1e5), TRAINER.sparsityRampEpochs)
    .option('--logit-adjustment <tau>', 'label-skewed data: the loss sees logits + tau·log(class share) and classes absent from --data leave the softmax (0 = plain cross-entropy, 1 = balanced softmax)', numberOption('--logit-adjustment', 0, 100), TRAINER.logitAdjustment)
    .option('--no-checkpoint', 'keep every block\'s activations for the backward pass (faster, ~6-9x more peak memory at ViT-Ti/S)')
    .option('--workers <n|auto>', 'data-parallel worker threads, each with its own wasm/cpu backend; auto = one per core (max 4) on wasm/cpu for backbones of ≥ 0.1 GFLOP per image, else 1; 1 trains on this thread', 'auto')
    .option('--backend <name>', 'auto|webgpu|wasm|cpu', 'auto')
    .option('--json', 'print one JSON object')
    .action(action('train', (opts: TrainOpts) => runTrain(opts)));
}

async function runTrain(opts: TrainOpts): Promise<void> {
  if (opts.kernel !== 'distance' && opts.kernel !== 'linear') throw new CliError(`--kernel must be distance or linear but got '${opts.kernel}'`);
  if (opts.threshold !== 'reference' && opts.threshold !== 'soft') {
    throw new CliError(`--threshold must be reference or soft but got '${opts.threshold}'`);
  }
  let snell: SnellConfig;
  try {
    // unset --scale, --heads and --sparsity take the kernel's own defaults (linear alone = dense LoRA)
    snell = resolveSnellConfig({
      kernel: opts.kernel,
      p: opts.p as 1 | 2,
      scale: opts.scale,
      heads: opts.heads,
      rank: opts.rank,
      sparsity: opts.sparsity,
      threshold: opts.threshold,
    });
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
  const trainer = resolveTrainerConfig({
    epochs: opts.epochs,
    maxSteps: opts.maxSteps,
    batchSize: opts.batch,
    lr: opts.lr,
    weightDecay: opts.weightDecay,
    warmupEpochs: opts.warmupEpochs,
    minLr: opts.minLr,
    adapterDropout: opts.adapterDropout,
    dropPath: opts.dropPath,
    seed: opts.seed,
    checkpoint: opts.checkpoint ?? TRAINER.checkpoint,
    factorLrScale: opts.factorLrScale,
    denseWarmupEpochs: opts.denseWarmupEpochs,
    sparsityRampEpochs: opts.sparsityRampEpochs,
    logitAdjustment: opts.logitAdjustment,
  });
  const auto = opts.workers === 'auto';
  const compute = await selectTrainingCompute(auto ? '1' : opts.workers, opts.backend);
  const { backend } = compute;
  const { model, folder } = await loadBackbone(opts.backbone);
  try {
    const data = await openData(opts.data, folder.config);
    const evalData = opts.evalData ? await openData(opts.evalData, folder.config, { flag: '--eval-data' }) : undefined;
    const workers = auto ? autoWorkerCount(folder.config, Math.min(trainer.batchSize, data.size), backend) : compute.workers;
    if (evalData && evalData.classes.join('\n') !== data.classes.join('\n')) {
      throw new CliError(`--eval-data classes (${evalData.classes.join(', ')}) differ from --data classes (${data.classes.join(', ')})`);
    }
    if (!opts.json) {
      process.stderr.write(
        `train: ${folder.config.architecture} on ${backend}${workers > 1 ? ` x${workers} workers` : ''}, ${data.size} images in ${data.classes.length} classes, ` +
          `${JSON.stringify(describeSnellConfig(snell))}\n`,
      );
    }
    const initial = createTrainables(model, snell, { numClasses: data.classes.length, seed: trainer.seed, factorInitScale: opts.factorInitScale });
    const bar = opts.json ? undefined : progressBar('train', totalStepsFor(trainer, data.size));
    const { state, metrics } = await train({
      model,
      data,
      initial,
      snell,
      config: trainer,
      onProgress: (e) =>
        bar?.update(e.step, { info: `epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.examplesPerSecond.toFixed(1)} img/s` }),
      workers,
      backbone: { configJson: folder.configJson, tensors: folder.tensors },
      backend: backend === 'cpu' ? 'cpu' : 'wasm',
    });
    bar?.stop();
    let evalResult: EvalResult | undefined;
    if (evalData) evalResult = await evaluate({ model, data: evalData, trainables: state, snell, batchSize: trainer.batchSize });
    const modules = adaptedModules(state.keys());
    const bytes = encodeAdapter({
      config: snell,
      modules,
      tensors: state,
      extra: {
        backbone_sha256: folder.sha256,
        architecture: folder.config.architecture,
        classes: data.classes,
        trainer,
        metrics: { train: metrics, ...(evalResult ? { eval: { accuracy: evalResult.accuracy, loss: evalResult.loss, count: evalResult.count } } : {}) },
      },
    });
    await writeFileAtomic(opts.out, bytes);
    const summary = {
      out: resolve(opts.out),
      backend,
      workers,
      modules: modules.length,
      bytes: bytes.length,
      train: metrics,
      ...(evalResult ? { eval: evalResult } : {}),
    };
    if (opts.json) {
      printJson(summary);
      return;
    }
    process.stdout.write(
      `wrote ${summary.out} (${modules.length} modules, ${(bytes.length / 1024).toFixed(1)} KiB): train loss ${metrics.loss.toFixed(4)}, ` +
        `accuracy ${(100 * metrics.accuracy).toFixed(2)}%, ${metrics.examplesPerSecond.toFixed(1)} img/s\n`,
    );
    if (evalResult) {
      process.stdout.write(`eval accuracy ${(100 * evalResult.accuracy).toFixed(2)}% on ${evalResult.count} images, loss ${evalResult.loss.toFixed(4)}\n`);
    }
  } finally {
    model.dispose();
  }
}
