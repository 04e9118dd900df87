import { DEFAULT_TRAINER_CONFIG } from '@fedsnell/train';
import { train, workersFor } from '@fedsnell/train/node';
import { VisionTransformer } from '@fedsnell/vit';
import { setupMethod, type MethodName } from './methods';
import { configJson, randomBackbone, randomDataset, type BenchModelSpec } from './random-backbone';
import { median, round3 } from './step';

/** CPU time of this process, every thread included, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface DefaultClientTiming {
  method: MethodName;
  batch: number;
  /** what `workers: 'auto'` picked on this machine for this backbone and batch */
  workers: number;
  checkpoint: boolean;
  /** wall time between consecutive optimizer steps after the warm-up steps */
  stepMs: number[];
  medianStepMs: number;
  /** CPU time of the process (worker threads included) between the same progress events, median */
  cpuMsPerStep: number;
  imagesPerSecond: number;
  /** from the call to the first step's progress event: worker start-up + the first step */
  firstStepMs: number;
}

/**
 * Optimizer steps exactly as the Node client trains a round: `train` of @fedsnell/train/node with
 * `workers: 'auto'` (or the count given, for a comparison) and the trainer defaults (block checkpointing, adapter dropout and drop-path 0.1,
 * AdamW), on seeded random weights and images of the bench's shapes, on the backend already set.
 */
export async function timeDefaultClient(
  spec: BenchModelSpec,
  method: MethodName,
  opts: { batch: number; warmup: number; steps: number; workers?: number | 'auto' },
): Promise<DefaultClientTiming> {
  const requested = opts.workers ?? 'auto';
  const { config, tensors } = randomBackbone(spec);
  const model = VisionTransformer.fromTensors(config, tensors);
  try {
    const setup = setupMethod(method, model, { rank: 8, sparsity: 0.9, heads: 2, classes: spec.classes });
    const total = opts.warmup + opts.steps;
    const data = randomDataset(opts.batch, spec.img, spec.classes);
    const backbone = { configJson: configJson(spec), tensors };
    const trainer = { epochs: total, batchSize: opts.batch };
    const workers = workersFor({ workers: requested, backbone, config: trainer, data });
    const marks: number[] = [performance.now()];
    const cpu: number[] = [cpuMs()];
    await train({
      model,
      data,
      initial: setup.initial,
      ...(setup.snell ? { snell: setup.snell } : {}),
      config: trainer,
      workers: requested,
      backbone,
      onProgress: () => {
        marks.push(performance.now());
        cpu.push(cpuMs());
      },
    });
    const intervals = marks.slice(1).map((t, i) => t - marks[i]);
    const stepMs = intervals.slice(opts.warmup).map((v) => Math.round(v));
    const cpuSteps = cpu.slice(1).map((t, i) => t - cpu[i]).slice(opts.warmup);
    const med = median(stepMs);
    return {
      method,
      batch: opts.batch,
      workers,
      checkpoint: DEFAULT_TRAINER_CONFIG.checkpoint,
      stepMs,
      medianStepMs: Math.round(med),
      cpuMsPerStep: Math.round(median(cpuSteps)),
      imagesPerSecond: round3(opts.batch / (med / 1000)),
      firstStepMs: Math.round(intervals[0]),
    };
  } finally {
    model.dispose();
  }
}
