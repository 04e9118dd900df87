import * as tf from '@tensorflow/tfjs';
import { resolveSnellConfig } from './config';
import { sparsify } from './sparsify';
import { describeOnBackends } from '@fedsnell/backends/testing';

describeOnBackends('sparsify', () => {
  // |ΔW| sorted: 1, 2, 3, 4; s = 0.5 ⇒ pos 1.5, τ = 2.5: keep 3 and −4 as 3·3 and −4·4.
  const half = resolveSnellConfig({ sparsity: 0.5 });
  const deltaW = () => tf.tensor2d([[1, -2], [3, -4]]);
  /** Row-major values with −0 read as 0 (−2·0 is −0, as in the reference). */
  const values = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0);

  it('keeps survivors as ΔW·|ΔW| (hand-checked)', () =>
    tf.tidy(() => {
      const { sparse, tau, kept } = sparsify(deltaW(), half);
      expect(values(sparse)).toEqual([0, 0, 9, -16]);
      expect(tau).toBe(2.5);
      expect(kept).toBe(2);
    }));

  it('drops entries equal to τ (strict >)', () =>
    tf.tidy(() => {
      const { sparse, kept } = sparsify(tf.tensor2d([[1, 2, 3]]), half);
      expect(values(sparse)).toEqual([0, 0, 9]);
      expect(kept).toBe(1);
    }));

  it('is dense KLoRA at sparsity 0: S = ΔW', () =>
    tf.tidy(() => {
      const { sparse, tau, kept } = sparsify(deltaW(), resolveSnellConfig({ sparsity: 0 }));
      expect(sparse.arraySync()).toEqual([[1, -2], [3, -4]]);
      expect(tau).toBe(0);
      expect(kept).toBe(4);
    }));

  it('offers the paper soft threshold: ΔW·max(|ΔW| − τ, 0)', () =>
    tf.tidy(() => {
      const { sparse } = sparsify(deltaW(), resolveSnellConfig({ sparsity: 0.5, threshold: 'soft' }));
      expect(values(sparse)).toEqual([0, 0, 1.5, -6]);
    }));

  it('passes gradient dS·|ΔW|·mask', () =>
    tf.tidy(() => {
      const g = tf.grad((w: tf.Tensor) => tf.sum(sparsify(w as tf.Tensor2D, half).sparse))(deltaW());
      expect(values(g)).toEqual([0, 0, 3, 4]);
    }));

  it('passes gradient dS unchanged at sparsity 0', () =>
    tf.tidy(() => {
      const g = tf.grad((w: tf.Tensor) => tf.sum(sparsify(w as tf.Tensor2D, resolveSnellConfig({ sparsity: 0 })).sparse))(deltaW());
      expect(g.arraySync()).toEqual([[1, 1], [1, 1]]);
    }));

  it('uses a given threshold instead of reading ΔW', () =>
    tf.tidy(() => {
      const { sparse, kept } = sparsify(deltaW(), half, { tau: 0.5, cut: 0.5, kept: 4 });
      expect(sparse.arraySync()).toEqual([[1, -4], [9, -16]]);
      expect(kept).toBe(4);
    }));

  it('rejects a rank-3 ΔW', () =>
    tf.tidy(() => {
      const rank3: tf.Tensor = tf.zeros([1, 2, 2]);
      expect(() => sparsify(rank3 as tf.Tensor2D, half)).toThrow(
        'deltaW passed to sparsify() must be rank 2 [in, out] but got shape [1, 2, 2]',
      );
    }));

  it('rejects a NaN ΔW', () =>
    tf.tidy(() => {
      expect(() => sparsify(tf.tensor2d([[NaN, 1]]), half)).toThrow('must not contain NaN');
    }));

  it('leaks no tensors', () =>
    tf.tidy(() => {
      const w = deltaW();
      const before = tf.memory().numTensors;
      const g = tf.grad((t: tf.Tensor) => tf.sum(sparsify(t as tf.Tensor2D, half).sparse))(w);
      g.dispose();
      sparsify(w, half).sparse.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }));
});
