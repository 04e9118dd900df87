import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { useBackend } from '@fedsnell/backends';
import { createRng, resolveSnellConfig, SnellConfig } from '@fedsnell/snell';
import { loadBackboneFolder } from '../node';
import { resolveVitConfig } from './config';
import { mergeAdapter, mergedConfigJson } from './merge';
import { VisionTransformer } from './model';
import { createTrainables } from './trainables';
import { tinyBackbone, tinyInput } from './tiny-backbone.testing';
import { describeOnBackends } from '@fedsnell/backends/testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;

/** Factors scaled up so that S(ΔW) is large enough to move the logits (the init makes it ≈ 1e-6). */
function scaled(state: TensorMap, factor: number): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, t] of state) {
    const f = name.includes('.snell_') ? factor : 1;
    out.set(name, { shape: t.shape, data: t.data.map((v) => v * f) });
  }
  return out;
}

function toTf(state: TensorMap): Map<string, tf.Tensor> {
  return new Map([...state].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));
}

function relError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
}

describeOnBackends('adapter forward equals the merged backbone', (backend) => {
  const cases: Array<[string, Partial<SnellConfig>]> = [
    ['SNELL s=0.5', { rank: 4, sparsity: 0.5 }],
    ['SNELL p=1 soft threshold', { rank: 4, sparsity: 0.7, p: 1, threshold: 'soft' }],
    ['KLoRA s=0', { rank: 4, sparsity: 0 }],
    ['LoRA', { kernel: 'linear', rank: 4, sparsity: 0 }],
  ];

  beforeAll(async () => {
    await useBackend(backend as 'cpu' | 'wasm');
  });

  it.each(cases)('%s', async (_name, partial) => {
    tf.engine().startScope();
    try {
      const folder = await loadBackboneFolder(FIXTURE);
      const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
      const snell = resolveSnellConfig(partial);
      const state = scaled(createTrainables(model, snell, { numClasses: 4, seed: 3 }), 10);
      const merged = VisionTransformer.fromTensors(
        resolveVitConfig(mergedConfigJson(folder.configJson, 4)),
        mergeAdapter(folder.tensors, { config: snell, tensors: state }),
      );
      const headOnly = new Map([...toTf(state)].filter(([n]) => !n.includes('.snell_')));
      const trainables = toTf(state);
      const input = tinyInput(2, 16);
      const x = tf.tensor4d(input.data, input.shape);

      const adapted = model.forward(x, { trainables, snell });
      const folded = merged.forward(x);
      const withoutAdapters = model.forward(x, { trainables: headOnly });

      expect(relError(adapted, folded)).toBeLessThan(1e-4);
      expect(relError(withoutAdapters, folded)).toBeGreaterThan(1e-2);
      tf.dispose([x, adapted, folded, withoutAdapters, ...trainables.values(), ...headOnly.values()]);
      model.dispose();
      merged.dispose();
    } finally {
      tf.engine().endScope();
    }
  });
});

describe('adapter gradients (cpu)', () => {
  let model: VisionTransformer;
  const snell = resolveSnellConfig({ rank: 2, sparsity: 0 });
  let state: TensorMap;
  let x: tf.Tensor4D;
  let g: tf.Tensor2D;

  beforeAll(async () => {
    await useBackend('cpu');
    const { config, tensors } = tinyBackbone(5);
    model = VisionTransformer.fromTensors(config, tensors);
    state = scaled(createTrainables(model, snell, { numClasses: 3, seed: 9 }), 8);
    const input = tinyInput(2);
    x = tf.tensor4d(input.data, input.shape);
    g = tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]]);
  });
  afterAll(() => {
    model.dispose();
    tf.dispose([x, g]);
  });

  const loss = (trainables: Map<string, tf.Tensor>): tf.Scalar => tf.sum(tf.mul(model.forward(x, { trainables, snell }), g));

  function lossAt(name: string, index: number, delta: number): number {
    const t = state.get(name)!;
    const data = Float32Array.from(t.data);
    data[index] += delta;
    const trainables = toTf(new Map(state).set(name, { shape: t.shape, data }));
    const value = tf.tidy(() => loss(trainables).dataSync()[0]);
    tf.dispose([...trainables.values()]);
    return value;
  }

  it.each([
    ['blocks.0.attn.q.snell_A', 3],
    ['blocks.0.attn.v.snell_B', 5],
    ['blocks.0.mlp.fc1.snell_B', 17],
    ['blocks.0.mlp.fc2.snell_A', 20],
    ['head.weight', 4],
    ['head.bias', 1],
    ['cls_token', 2],
  ])('matches finite differences for %s[%i]', (name, index) => {
    tf.engine().startScope();
    try {
      const names = [...state.keys()];
      const trainables = toTf(state);
      const grads = tf.grads((...ts: tf.Tensor[]) => loss(new Map(names.map((n, i) => [n, ts[i]]))))(names.map((n) => trainables.get(n)!));
      const analytic = grads[names.indexOf(name)].dataSync()[index];
      const h = 1e-2;
      const numeric = (lossAt(name, index, h) - lossAt(name, index, -h)) / (2 * h);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
      tf.dispose([...grads, ...trainables.values()]);
    } finally {
      tf.engine().endScope();
    }
  });

  it('leaks no tensors over forward and backward', () =>
    tf.tidy(() => {
      const trainables = toTf(state);
      const names = [...trainables.keys()];
      const before = tf.memory().numTensors;
      const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => loss(new Map(names.map((n, i) => [n, ts[i]]))))(
        names.map((n) => trainables.get(n)!),
      );
      tf.dispose([value, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...trainables.values()]);
    }));

  it('repeats dropout and drop-path for the same seed', () =>
    tf.tidy(() => {
      const trainables = toTf(state);
      const opts = { trainables, snell, training: true, adapterDropout: 0.5, dropPath: 0.5 };
      const a = model.forward(x, { ...opts, rng: createRng(1) });
      const b = model.forward(x, { ...opts, rng: createRng(1) });
      const plain = model.forward(x, { trainables, snell });
      expect(a.arraySync()).toEqual(b.arraySync());
      expect(relError(a, plain)).toBeGreaterThan(1e-3);
      tf.dispose([a, b, plain, ...trainables.values()]);
    }));

  it.each([
    ['attn.proj', false],
    ['attn.k', true],
    ['mlp.fc2', true],
  ])('places input dropout as the reference (%s adapter dropped: %s)', (kind, dropped) => {
    tf.engine().startScope();
    try {
      const only = new Map([...state].filter(([n]) => !n.includes('.snell_') || n.startsWith(`blocks.0.${kind}.`)));
      const trainables = toTf(only);
      const a = model.forward(x, { trainables, snell, training: true, adapterDropout: 0.5, rng: createRng(4) });
      const plain = model.forward(x, { trainables, snell });
      expect(relError(a, plain) > 1e-4).toBe(dropped);
      tf.dispose([a, plain, ...trainables.values()]);
    } finally {
      tf.engine().endScope();
    }
  });

  it('ignores dropout outside training', () =>
    tf.tidy(() => {
      const trainables = toTf(state);
      const a = model.forward(x, { trainables, snell, adapterDropout: 0.5, dropPath: 0.5 });
      const plain = model.forward(x, { trainables, snell });
      expect(a.arraySync()).toEqual(plain.arraySync());
      tf.dispose([a, plain, ...trainables.values()]);
    }));
});

describe('checkpointed blocks (cpu)', () => {
  let model: VisionTransformer;
  const snell = resolveSnellConfig({ rank: 2, sparsity: 0.5 });
  let x: tf.Tensor4D;

  beforeAll(async () => {
    await useBackend('cpu');
    const { config, tensors } = tinyBackbone(5, { depth: 2 });
    model = VisionTransformer.fromTensors(config, tensors);
    const input = tinyInput(2);
    x = tf.tensor4d(input.data, input.shape);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  function step(trainables: Map<string, tf.Tensor>, checkpoint: boolean): { loss: number; grads: number[][] } {
    const names = [...trainables.keys()];
    const opts = { snell, training: true, adapterDropout: 0.3, dropPath: 0.3, rng: createRng(11), checkpoint };
    const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) =>
      tf.sum(tf.square(model.forward(x, { ...opts, trainables: new Map(names.map((n, i) => [n, ts[i]])) }))),
    )(names.map((n) => trainables.get(n)!));
    const out = { loss: value.dataSync()[0], grads: grads.map((g) => [...g.dataSync()]) };
    tf.dispose([value, ...grads]);
    return out;
  }

  it('matches the plain forward and gradients, dropout included', () =>
    tf.tidy(() => {
      const trainables = toTf(scaled(createTrainables(model, snell, { numClasses: 3, seed: 9 }), 8));
      const plain = step(trainables, false);
      const ours = step(trainables, true);
      expect(ours.loss).toBeCloseTo(plain.loss, 4);
      ours.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - plain.grads[i][j])).toBeLessThan(1e-4 * (1 + Math.abs(plain.grads[i][j])))));
      tf.dispose([...trainables.values()]);
    }));

  it('reads each adapter threshold once per step, not again in the recomputation', () =>
    tf.tidy(() => {
      const trainables = toTf(scaled(createTrainables(model, snell, { numClasses: 3, seed: 9 }), 8));
      const reads = (checkpoint: boolean): number => {
        const spy = jest.spyOn(tf.backend(), 'readSync');
        try {
          step(trainables, checkpoint);
          return spy.mock.calls.length;
        } finally {
          spy.mockRestore();
        }
      };
      const adapters = [...trainables.keys()].filter((name) => name.endsWith('.snell_A')).length;
      const plain = reads(false);
      // the plain step reads every ΔW once (plus the loss and gradients); the recomputation adds none
      expect(plain).toBeGreaterThan(adapters + trainables.size);
      expect(reads(true)).toBe(plain);
      tf.dispose([...trainables.values()]);
    }));

  it('lowers the peak memory of a training step', async () => {
    tf.engine().startScope();
    try {
      const trainables = toTf(scaled(createTrainables(model, snell, { numClasses: 3, seed: 9 }), 8));
      const peak = async (checkpoint: boolean) => (await tf.profile(() => step(trainables, checkpoint))).peakBytes;
      const plain = await peak(false);
      const ours = await peak(true);
      expect(ours).toBeLessThan(plain);
      tf.dispose([...trainables.values()]);
    } finally {
      tf.engine().endScope();
    }
  });

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const trainables = toTf(createTrainables(model, snell, { numClasses: 3, seed: 9 }));
      const before = tf.memory().numTensors;
      step(trainables, true);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...trainables.values()]);
    }));
});
