import { encode } from 'jpeg-js';
import { createRng, resolveSnellConfig } from '@fedsnell/snell';
import { decodeJpeg, preprocessImage } from '@fedsnell/data';
import { ParallelGradientEngine } from '@fedsnell/train/node';
import { createTrainables, VisionTransformer } from '@fedsnell/vit';
import { configJson, randomBackbone, randomBatch, type BenchModelSpec } from './random-backbone';
import { median, round3 } from './step';

interface Options {
  batch: number;
  steps: number;
  warmup: number;
  workers: number;
  regularisation: boolean;
  checkpoint: boolean;
  log: (m: string) => void;
}

/**
 * SNELL gradient computation for one batch through ParallelGradientEngine with 1 and with N wasm
 * workers (the main thread only splits, averages and would run AdamW), and the cost of decoding +
 * preprocessing the same batch from JPEG on the main thread, to see whether a decode worker matters.
 */
export async function measureParallelSpeedup(spec: BenchModelSpec, opts: Options): Promise<Record<string, unknown>> {
  const { config, tensors } = randomBackbone(spec);
  const snell = resolveSnellConfig({ kernel: 'distance', rank: 8, heads: 2, sparsity: 0.9 });
  const model = VisionTransformer.fromTensors(config, tensors);
  const initial = createTrainables(model, snell, { numClasses: spec.classes, seed: 3 });
  model.dispose();
  const values = new Map([...initial].map(([name, t]) => [name, t.data]));
  const batch = { ...randomBatch(opts.batch, spec.img, spec.classes), n: opts.batch };
  const runs: Record<string, unknown>[] = [];
  const counts = [...new Set([1, opts.workers])];
  for (const workers of counts) {
    const t0 = performance.now();
    const engine = await ParallelGradientEngine.create({
      backbone: { configJson: configJson(spec), tensors },
      trainables: [...initial].map(([name, t]) => ({ name, shape: t.shape })),
      snell,
      numClasses: spec.classes,
      workers,
      backend: 'wasm',
      adapterDropout: opts.regularisation ? 0.1 : 0,
      dropPath: opts.regularisation ? 0.1 : 0,
      checkpoint: opts.checkpoint,
    });
    const startMs = performance.now() - t0;
    try {
      for (let i = 0; i < opts.warmup; i++) await engine.gradients(values, batch, i);
      const ms: number[] = [];
      for (let i = 0; i < opts.steps; i++) {
        const s = performance.now();
        await engine.gradients(values, batch, 100 + i);
        ms.push(performance.now() - s);
      }
      const med = median(ms);
      runs.push({ workers, startMs: Math.round(startMs), stepMs: ms.map(Math.round), medianStepMs: Math.round(med), imagesPerSecond: round3(opts.batch / (med / 1000)) });
      opts.log(`${spec.name} parallel ${workers} worker(s): ${Math.round(med)} ms per batch of ${opts.batch}`);
    } finally {
      await engine.close();
    }
  }
  const first = runs[0]['medianStepMs'] as number;
  const last = runs[runs.length - 1]['medianStepMs'] as number;
  return {
    config: spec.name,
    method: 'snell',
    backend: 'wasm in each worker thread',
    batch: opts.batch,
    checkpoint: opts.checkpoint,
    what: 'ParallelGradientEngine.gradients(): forward + backward of the batch split over the workers, gradients averaged on the main thread (AdamW excluded, it is the same in both)',
    runs,
    speedup: round3(first / last),
    decode: decodeCost(spec, opts.batch, first),
  };
}

/** Main-thread JPEG decode + timm preprocessing of a batch (320×240 JPEGs, q 90, to 224×224). */
function decodeCost(spec: BenchModelSpec, n: number, stepMs: number): Record<string, unknown> {
  const rng = createRng(9);
  const width = 320;
  const height = 240;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = Math.floor(rng() * 256);
  const jpeg = new Uint8Array(encode({ data: rgba, width, height }, 90).data);
  const cfg = { inputSize: [3, spec.img, spec.img] as [number, number, number], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  preprocessImage(decodeJpeg(jpeg, 'warm-up'), cfg);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) preprocessImage(decodeJpeg(jpeg, `bench-${i}`), cfg);
  const ms = performance.now() - t0;
  return {
    batchDecodeMs: Math.round(ms),
    shareOfOneWorkerStep: round3(ms / stepMs),
    note: '`train` with workers loads the next batch on the main thread while the workers compute, so decoding overlaps the step; a decode worker is only worth it when this share approaches 1',
  };
}
