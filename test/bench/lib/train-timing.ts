import { train } from '@fedsnell/train';
import { VisionTransformer } from '@fedsnell/vit';
import { setupMethod } from './methods';
import { randomBackbone, randomDataset, type BenchModelSpec } from './random-backbone';
import { median } from './step';

/** The 2-block test backbone of test/fixtures/vit-timm-tiny (same shapes, random weights). */
export const TEST_TINY: BenchModelSpec = { name: 'test-tiny-16', img: 16, patch: 4, embed: 32, depth: 2, heads: 2, classes: 5 };

export interface TrainTiming {
  config: string;
  batch: number;
  /** wall time between consecutive optimizer steps, after the first (warm-up: kernels compile) */
  stepMs: number[];
  medianStepMs: number;
  firstStepMs: number;
}

/**
 * Times SNELL training steps exactly as a client trains (`train` of @fedsnell/train: async threshold
 * reads, checkpointing, AdamW) on seeded random weights and images, on whatever tfjs backend is set.
 */
export async function timeTraining(spec: BenchModelSpec, opts: { batch: number; steps: number }): Promise<TrainTiming> {
  const { config, tensors } = randomBackbone(spec);
  const model = VisionTransformer.fromTensors(config, tensors);
  try {
    const setup = setupMethod('snell', model, { rank: 8, sparsity: 0.9, heads: 2, classes: spec.classes });
    const data = randomDataset(opts.batch, spec.img, spec.classes);
    const marks: number[] = [performance.now()];
    await train({
      model,
      data,
      initial: setup.initial,
      ...(setup.snell ? { snell: setup.snell } : {}),
      config: { epochs: opts.steps + 1, batchSize: opts.batch, lr: 1e-3, adapterDropout: 0.1, dropPath: 0.1 },
      onProgress: () => marks.push(performance.now()),
    });
    const intervals = marks.slice(1).map((t, i) => t - marks[i]);
    const stepMs = intervals.slice(1).map((v) => Math.round(v * 10) / 10);
    return { config: spec.name, batch: opts.batch, stepMs, medianStepMs: median(stepMs), firstStepMs: Math.round(intervals[0]) };
  } finally {
    model.dispose();
  }
}
