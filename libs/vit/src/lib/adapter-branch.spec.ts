import * as tf from '@tensorflow/tfjs';
import { createRng, resolveSnellConfig } from '@fedsnell/snell';
import { adapterBranch, adapterInput } from './adapter-branch';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('adapter branch', () => {
  const cfg = resolveSnellConfig({ kernel: 'linear', rank: 1, sparsity: 0 });

  it('is x·S(ΔW) without regularisation', () =>
    tf.tidy(() => {
      // LoRA rank 1: ΔW = a·bᵀ = [[1·3]] for in = out = 1
      const y = adapterBranch(tf.tensor2d([[2], [5]]), tf.tensor3d([[[1]]]), tf.tensor3d([[[3]]]), cfg);
      expect(y.arraySync()).toEqual([[6], [15]]);
    }));

  it('drops whole samples and rescales the rest', () =>
    tf.tidy(() => {
      const x = tf.ones([4 * 3, 1]) as tf.Tensor2D; // 4 samples of 3 tokens
      const reg = { dropout: 0, dropPath: 0.5, tokens: 3, rng: createRng(2) };
      const y = adapterBranch(x, tf.tensor3d([[[1]]]), tf.tensor3d([[[1]]]), cfg, reg).dataSync();
      for (let s = 0; s < 4; s++) {
        expect([0, 2]).toContain(y[3 * s]);
        expect([y[3 * s + 1], y[3 * s + 2]]).toEqual([y[3 * s], y[3 * s]]);
      }
      expect(new Set(y).size).toBe(2);
    }));

  it('drops input entries with the given rate and a repeatable seed', () =>
    tf.tidy(() => {
      const x = tf.ones([50, 4]) as tf.Tensor2D;
      const reg = (seed: number) => ({ dropout: 0.5, dropPath: 0, tokens: 1, rng: createRng(seed) });
      const a = adapterInput(x, reg(1)).dataSync();
      const zeros = a.filter((v) => v === 0).length;
      expect(zeros).toBeGreaterThan(60);
      expect(zeros).toBeLessThan(140);
      expect([...a].every((v) => v === 0 || v === 2)).toBe(true);
      expect(adapterInput(x, reg(1)).dataSync()).toEqual(a);
    }));
}, { backends: ['cpu'] });
