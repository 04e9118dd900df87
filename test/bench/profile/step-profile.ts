/**
 * Where the time of one ViT training step goes on a tfjs backend (wasm by default): per-step wall time
 * (median after warm-up, as train-step.bench measures it) and a per-kernel profile (tf.profile: kernel
 * name, count, total ms) of one more step, for SNELL, LoRA and full fine-tuning, checkpoint off/on.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/profile/step-profile.ts [--config vit-ti-224|vit-s-224|demo-32]
 *       [--methods snell,lora,full] [--checkpoint off|on|both] [--batch 4] [--steps 2] [--top 15]
 *       [--no-profile] [--no-regularisation] [--backend wasm|cpu]
 *
 * Prints one JSON object on stdout. Not a jest test. The step is the one train() runs:
 * variableGrads(softmax cross-entropy of model.forward with the trainables) and AdamW.step.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { VisionTransformer } from '@fedsnell/vit';
import { DEMO, VIT_S, VIT_TI, randomBackbone, randomBatch } from '../lib/random-backbone';
import { setupMethod, type MethodName } from '../lib/methods';
import { createTrainStep, median } from '../lib/step';

interface KernelRow {
  kernel: string;
  count: number;
  totalMs: number;
  share: number;
}

function arg(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}


async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const specs = [DEMO, VIT_TI, VIT_S];
  const spec = specs.find((s) => s.name === (arg(argv, '--config') ?? VIT_TI.name));
  if (!spec) throw new Error(`--config passed to step-profile must be one of ${specs.map((s) => s.name).join(', ')} but got '${arg(argv, '--config')}'`);
  const methods = (arg(argv, '--methods') ?? 'snell,lora,full').split(',') as MethodName[];
  const ck = arg(argv, '--checkpoint') ?? 'both';
  const checkpoints = ck === 'both' ? [false, true] : [ck === 'on'];
  const batchSize = Number(arg(argv, '--batch') ?? 4);
  const steps = Number(arg(argv, '--steps') ?? 2);
  const top = Number(arg(argv, '--top') ?? 15);
  const profile = !argv.includes('--no-profile');
  const regularisation = !argv.includes('--no-regularisation');
  const backend = (arg(argv, '--backend') ?? 'wasm') as BackendName;

  await useBackend(backend);
  const { config, tensors } = randomBackbone(spec);
  const model = VisionTransformer.fromTensors(config, tensors);
  const data = randomBatch(batchSize, spec.img, spec.classes);
  const x = tf.tensor4d(data.x, [batchSize, 3, spec.img, spec.img]);
  const labels = tf.oneHot(tf.tensor1d(data.y, 'int32'), spec.classes) as tf.Tensor2D;
  const loadStart = os.loadavg();
  const results: Record<string, unknown> = {};

  for (const method of methods) {
    for (const checkpoint of checkpoints) {
      const key = `${method}${checkpoint ? '+checkpoint' : ''}`;
      process.stderr.write(`${key} ...\n`);
      const setup = setupMethod(method, model, { rank: 8, sparsity: 0.9, heads: 2, classes: spec.classes });
      const train = createTrainStep(model, setup, x, labels, { regularisation, checkpoint });
      const { step } = train;
      try {
        const losses: number[] = [step()];
        const before = tf.memory().numTensors;
        const stepMs: number[] = [];
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          losses.push(step());
          stepMs.push(performance.now() - t0);
        }
        const entry: Record<string, unknown> = {
          medianStepMs: Math.round(median(stepMs)),
          stepMs: stepMs.map(Math.round),
          losses: losses.map((l) => Number(l.toFixed(6))),
          leakedTensorsPerStep: (tf.memory().numTensors - before) / Math.max(1, steps),
        };
        if (profile) entry.kernels = await profileStep(step, top);
        results[key] = entry;
      } finally {
        train.dispose();
        for (const m of setup.gradientMasks?.values() ?? []) m.dispose();
      }
    }
  }
  x.dispose();
  labels.dispose();
  model.dispose();
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'step-profile',
        date: new Date().toISOString(),
        backend,
        config: spec.name,
        batch: batchSize,
        measuredSteps: steps,
        regularisation,
        machine: { cpus: os.cpus().length, node: process.version, loadAverageAtStart: loadStart.map((v) => Number(v.toFixed(2))), loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
        timing: 'medianStepMs: wall time of unprofiled steps after one warm-up (ends with the loss dataSync); kernels: tf.profile of one further step, kernelTimeMs summed per kernel name (wasm: wall time of the synchronous kernel call)',
        results,
      },
      null,
      2,
    )}\n`,
  );
}

interface ShapeRow {
  kernel: string;
  shapes: string;
  count: number;
  totalMs: number;
  gflops?: number;
}

/** Kernels by name, and the matMul/transpose calls by input shapes (custom-gradient scopes, which
 * wrap kernels already listed, are left out so that nothing is counted twice). */
async function profileStep(
  step: () => number,
  top: number,
): Promise<{ profiledStepMs: number; kernelMsSum: number; calls: number; top: KernelRow[]; byShape: ShapeRow[] }> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    step();
  });
  const profiledStepMs = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number }>();
  const byShape = new Map<string, ShapeRow>();
  const backendName = tf.getBackend();
  let kernelMsSum = 0;
  for (const k of info.kernels) {
    if (!tf.getKernel(k.name, backendName)) continue;
    const ms = Number(await k.kernelTimeMs);
    if (k.name === 'BatchMatMul' || k.name === 'Transpose' || k.name === 'Softmax') {
      const shapes = JSON.stringify(k.inputShapes);
      const s = byShape.get(`${k.name} ${shapes}`) ?? { kernel: k.name, shapes, count: 0, totalMs: 0 };
      s.count++;
      s.totalMs += ms;
      byShape.set(`${k.name} ${shapes}`, s);
    }
    const row = byName.get(k.name) ?? { count: 0, ms: 0 };
    row.count++;
    row.ms += ms;
    byName.set(k.name, row);
    kernelMsSum += ms;
  }
  const rows = [...byName.entries()]
    .map(([kernel, r]) => ({ kernel, count: r.count, totalMs: Math.round(r.ms), share: Number((r.ms / kernelMsSum).toFixed(3)) }))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
  const shapeRows = [...byShape.values()]
    .map((r) => {
      const out: ShapeRow = { ...r, totalMs: Math.round(r.totalMs) };
      if (r.kernel === 'BatchMatMul') {
        const [a, b] = JSON.parse(r.shapes) as number[][];
        const batch = a.length === 3 ? a[0] : 1;
        const flops = 2 * batch * a[a.length - 2] * a[a.length - 1] * b[b.length - 1] * r.count;
        out.gflops = r.totalMs > 0 ? Number((flops / (r.totalMs * 1e6)).toFixed(1)) : undefined;
      }
      return out;
    })
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
  return { profiledStepMs: Math.round(profiledStepMs), kernelMsSum: Math.round(kernelMsSum), calls: info.kernels.length, top: rows, byShape: shapeRows };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
