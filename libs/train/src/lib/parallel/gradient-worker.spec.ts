import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { resolveSnellConfig } from '@fedsnell/snell';
import { createTrainables, resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import { GradientWorker } from './gradient-worker';
import type { FromWorker, StepMessage } from './messages';
import { packBackbone } from './slices';
import { tinyBackboneSource } from './testing';

const snell = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });

async function started(): Promise<{ worker: GradientWorker; names: string[]; values: Float32Array[] }> {
  const src = tinyBackboneSource();
  const model = VisionTransformer.fromTensors(resolveVitConfig(src.configJson), src.tensors);
  const initial = createTrainables(model, snell, { numClasses: 2, seed: 3 });
  model.dispose();
  const worker = new GradientWorker();
  await worker.handle({
    type: 'init',
    backend: 'cpu',
    backbone: packBackbone(src.configJson, src.tensors),
    trainables: [...initial].map(([name, t]) => ({ name, shape: t.shape })),
    snell,
    numClasses: 2,
    adapterDropout: 0,
    dropPath: 0,
    checkpoint: false,
  });
  return { worker, names: [...initial.keys()], values: [...initial.values()].map((t) => t.data) };
}

function step(values: Float32Array[], n: number): StepMessage {
  const x = Float32Array.from({ length: n * 3 * 64 }, (_, i) => Math.sin(i));
  return { type: 'step', id: 1, seed: 0, trainables: values.map((v) => v.slice()), x, y: Int32Array.from({ length: n }, (_, i) => i % 2), n };
}

describe('GradientWorker', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('returns one gradient per trainable', async () => {
    const { worker, values } = await started();
    const reply = (await worker.handle(step(values, 2))) as Extract<FromWorker, { type: 'result' }>;
    worker.dispose();
    expect(reply.type).toBe('result');
    expect(reply.grads.map((g) => g.length)).toEqual(values.map((v) => v.length));
    expect(reply.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
  });

  it('gives the mean of its halves for a batch', async () => {
    const { worker, names, values } = await started();
    const whole = step(values, 4);
    const half = (k: number): StepMessage => ({ ...whole, trainables: values.map((v) => v.slice()), x: whole.x.slice(k * 384, (k + 1) * 384), y: whole.y.slice(2 * k, 2 * k + 2), n: 2 });
    const all = (await worker.handle({ ...whole })) as Extract<FromWorker, { type: 'result' }>;
    const a = (await worker.handle(half(0))) as Extract<FromWorker, { type: 'result' }>;
    const b = (await worker.handle(half(1))) as Extract<FromWorker, { type: 'result' }>;
    worker.dispose();
    const i = names.indexOf('head.weight');
    const mean = a.grads[i].map((v, j) => (v + b.grads[i][j]) / 2);
    expect(Array.from(mean)).toEqual(Array.from(all.grads[i]).map((v) => expect.closeTo(v, 6)));
  });

  it('answers a step before init with an error', async () => {
    const worker = new GradientWorker();
    const reply = await worker.handle({ type: 'step', id: 4, seed: 0, trainables: [], x: new Float32Array(0), y: new Int32Array(0), n: 0 });
    expect(reply).toEqual({ type: 'error', id: 4, message: 'GradientWorker.handle(): step received before init' });
  });

  it('leaks no tensors across a step', async () => {
    const { worker, values } = await started();
    await worker.handle(step(values, 2));
    const before = tf.memory().numTensors;
    await worker.handle(step(values, 2));
    const after = tf.memory().numTensors;
    worker.dispose();
    expect(after).toBe(before);
  });
});
