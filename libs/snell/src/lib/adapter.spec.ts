import * as tf from '@tensorflow/tfjs';
import { numericGrad } from '../testing/finite-difference';
import { relError } from '../testing/golden';
import { resolveSnellConfig, type SnellConfig } from './config';
import { initSnellFactors } from './init';
import { createRng } from './rng';
import { snellMatMul, snellThreshold, sparseDelta } from './adapter';
import { sparsify } from './sparsify';
import { mergeKernel } from './merge-kernel';
import { describeOnBackends } from '@fedsnell/backends/testing';

const factors = (inF: number, outF: number, cfg: SnellConfig, seed: number, gain = 1) => {
  const { A, B } = initSnellFactors(inF, outF, cfg, createRng(seed));
  return {
    A: tf.mul(tf.tensor3d(A.data, A.shape as [number, number, number]), gain) as tf.Tensor3D,
    B: tf.mul(tf.tensor3d(B.data, B.shape as [number, number, number]), gain) as tf.Tensor3D,
  };
};
const randomX = (n: number, inF: number, seed: number) => {
  const rng = createRng(seed);
  return tf.tensor2d(Float32Array.from({ length: n * inF }, () => rng() - 0.5), [n, inF]);
};

const configs: [string, SnellConfig][] = [
  ['sparse p=2', resolveSnellConfig({ rank: 4, sparsity: 0.6 })],
  ['dense p=2', resolveSnellConfig({ rank: 4, sparsity: 0 })],
  ['sparse p=1', resolveSnellConfig({ rank: 4, p: 1, sparsity: 0.6 })],
  ['sparse soft', resolveSnellConfig({ rank: 4, sparsity: 0.6, threshold: 'soft' })],
  ['sparse linear', resolveSnellConfig({ kernel: 'linear', rank: 2, sparsity: 0.6 })],
  // dense LoRA takes the rank-r path (x·A₀)·B₀ᵀ
  ['dense linear', resolveSnellConfig({ kernel: 'linear', rank: 2, sparsity: 0 })],
];

describeOnBackends('snellMatMul', () => {
  it('evaluates the distances once per forward and backward when it keeps them (p = 2), twice otherwise', async () => {
    const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.6 });
    const { A, B } = tf.tidy(() => factors(6, 5, cfg, 1, 8));
    const x = randomX(3, 6, 2);
    const roots = async (keepDistances: boolean): Promise<number> => {
      const info = await tf.profile(() => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(snellMatMul(x, a as tf.Tensor3D, b as tf.Tensor3D, cfg, undefined, { keepDistances })))([A, B]);
        tf.dispose(grads);
      });
      return info.kernels.filter((k) => k.name === 'Sqrt').length;
    };
    expect(await roots(true)).toBe(1);
    expect(await roots(false)).toBe(2);
    tf.dispose([A, B, x]);
  });

  describe.each(configs)('%s', (_name, cfg) => {
    it('gives the same value and gradients, bit for bit, when it keeps the distances for the backward', () =>
      tf.tidy(() => {
        const { A, B } = factors(6, 5, cfg, 1, 8);
        const x = randomX(3, 6, 2);
        const g = randomX(3, 5, 4);
        const run = (keepDistances: boolean) =>
          tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(snellMatMul(xi as tf.Tensor2D, a as tf.Tensor3D, b as tf.Tensor3D, cfg, undefined, { keepDistances }), g)))([x, A, B]).map((t) => Array.from(t.dataSync()));
        const plain = run(false);
        expect(run(true)).toEqual(plain);
        expect(plain[1].some((v) => v !== 0)).toBe(true);
      }));

    it('equals x·sparseDelta(A, B)', () =>
      tf.tidy(() => {
        const { A, B } = factors(6, 5, cfg, 1);
        const x = randomX(3, 6, 2);
        expect(relError(snellMatMul(x, A, B, cfg).dataSync(), tf.matMul(x, sparseDelta(A, B, cfg)).dataSync())).toBeLessThan(1e-6);
      }));

    it('has the gradients (x, A, B) of the composed ops', () =>
      tf.tidy(() => {
        const { A, B } = factors(6, 5, cfg, 3);
        const x = randomX(3, 6, 4);
        const G = randomX(3, 5, 5);
        const ours = tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(snellMatMul(xi as tf.Tensor2D, a as tf.Tensor3D, b as tf.Tensor3D, cfg), G)),
        )([x, A, B]);
        const composed = tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(xi as tf.Tensor2D, sparseDelta(a as tf.Tensor3D, b as tf.Tensor3D, cfg)), G)),
        )([x, A, B]);
        ours.forEach((g, i) => expect(relError(g.dataSync(), composed[i].dataSync())).toBeLessThan(1e-5));
      }));
  });

  it.each([0, 0.5])('has the gradient of finite differences (sparsity %s)', async (sparsity) => {
    tf.engine().startScope();
    try {
      const cfg = resolveSnellConfig({ rank: 4, sparsity, scale: 1 });
      // O(1) factors so that a float32 central difference resolves the change.
      const { A, B } = factors(3, 4, cfg, 6, 8);
      const x = randomX(2, 3, 7);
      const G = randomX(2, 4, 8);
      // The mask is a constant of the gradient: hold τ fixed while differencing.
      const threshold = await snellThreshold(A, B, cfg);
      const loss = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.sum(tf.mul(snellMatMul(x, a, b, cfg, threshold), G)) as tf.Scalar;
      const [gA, gB] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor3D, b as tf.Tensor3D))([A, B]);
      const fA = numericGrad((t) => loss(t as tf.Tensor3D, B), A, 1e-3);
      const fB = numericGrad((t) => loss(A, t as tf.Tensor3D), B, 1e-3);
      // Dense, S = ΔW: the true derivative. Sparse, S = ΔW·|ΔW| with |ΔW| detached (the reference):
      // half the true derivative 2|ΔW|·dΔW.
      const factor = sparsity === 0 ? 1 : 2;
      expect(relError(gA.dataSync().map((v) => v * factor), fA)).toBeLessThan(2e-2);
      expect(relError(gB.dataSync().map((v) => v * factor), fB)).toBeLessThan(2e-2);
    } finally {
      tf.engine().endScope();
    }
  });

  it('keeps only its output alive between forward and backward', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.5 });
      const { A, B } = factors(16, 32, cfg, 9);
      const x = randomX(2, 16, 10);
      /** Bytes alive after the forward pass, beyond the inputs (saved inputs are clones: no bytes). */
      const afterForward = (forward: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor2D) => {
        let alive = -1;
        const before = tf.memory().numBytes;
        tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const y = forward(a as tf.Tensor3D, b as tf.Tensor3D);
          alive = tf.memory().numBytes - before;
          return tf.sum(y);
        })([A, B]).forEach((g) => g.dispose());
        return alive;
      };
      // tfjs counts the saved inputs (clones sharing the inputs' storage) in numBytes too.
      const outputBytes = 2 * 32 * 4;
      const savedClones = (x.size + A.size + B.size) * 4;
      expect(afterForward((a, b) => snellMatMul(x, a, b, cfg))).toBe(outputBytes + savedClones);
      // The composed ops keep at least S's weight [16, 32] for their backward.
      expect(afterForward((a, b) => tf.matMul(x, sparseDelta(a, b, cfg)))).toBeGreaterThanOrEqual(outputBytes + savedClones + 16 * 32 * 4);
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.5 });
      const { A, B } = factors(8, 8, cfg, 11);
      const x = randomX(2, 8, 12);
      const before = tf.memory().numTensors;
      snellMatMul(x, A, B, cfg).dispose();
      tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(snellMatMul(xi as tf.Tensor2D, a as tf.Tensor3D, b as tf.Tensor3D, cfg)),
      )([x, A, B]).forEach((g) => g.dispose());
      sparseDelta(A, B, cfg).dispose();
      expect(tf.memory().numTensors).toBe(before);
    }));

  it('uses a precomputed threshold like its own', async () => {
    tf.engine().startScope();
    try {
      const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.7 });
      const { A, B } = factors(8, 8, cfg, 13);
      const x = randomX(2, 8, 14);
      const threshold = await snellThreshold(A, B, cfg);
      expect(threshold.kept).toBe(sparsify(mergeKernel(A, B, cfg), cfg).kept);
      expect(snellMatMul(x, A, B, cfg, threshold).dataSync()).toEqual(snellMatMul(x, A, B, cfg).dataSync());
    } finally {
      tf.engine().endScope();
    }
  });

  it('trains tf.Variable factors with a tfjs optimizer', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4, sparsity: 0.5 });
      const { A, B } = factors(6, 5, cfg, 17, 4);
      const [a, b] = [tf.variable(A), tf.variable(B)];
      const x = randomX(4, 6, 18);
      const target = randomX(4, 5, 19);
      const loss = () => tf.mean(tf.square(tf.sub(snellMatMul(x, a, b, cfg), target))) as tf.Scalar;
      const optimizer = tf.train.sgd(0.5);
      const first = loss().dataSync()[0];
      for (let i = 0; i < 20; i++) optimizer.minimize(loss);
      expect(loss().dataSync()[0]).toBeLessThan(first);
      // variables and optimizer state outlive tidy
      optimizer.dispose();
      tf.dispose([a, b]);
    }));

  it('rejects x with the wrong width', () =>
    tf.tidy(() => {
      const cfg = resolveSnellConfig({ rank: 4 });
      const { A, B } = factors(8, 8, cfg, 15);
      expect(() => snellMatMul(tf.zeros([2, 7]) as tf.Tensor2D, A, B, cfg)).toThrow(
        'x passed to snellMatMul() must have shape [n, 8] but got [2, 7]',
      );
    }));

  it('rejects factors that do not match the configuration', () =>
    tf.tidy(() => {
      const { A, B } = factors(8, 8, resolveSnellConfig({ rank: 4 }), 16);
      expect(() => sparseDelta(A, B, resolveSnellConfig({ rank: 8 }))).toThrow(
        'A passed to sparseDelta() must have shape [2, in, 4] (heads, in, rank/heads) but got [2, 8, 2]',
      );
    }));
});
