import type * as tf from '@tensorflow/tfjs';
import type { SnellConfig } from './config';

/** Checks A [H, in, d] and B [H, out, d] against the configuration; returns [in, out]. */
export function checkFactors(fn: string, A: tf.Tensor, B: tf.Tensor, cfg: SnellConfig): [number, number] {
  const d = cfg.rank / cfg.heads;
  for (const [name, t, dim] of [['A', A, 'in'], ['B', B, 'out']] as const) {
    const s = t.shape;
    if (s.length !== 3 || s[0] !== cfg.heads || s[2] !== d || s[1] < 1) {
      throw new RangeError(
        `${name} passed to ${fn} must have shape [${cfg.heads}, ${dim}, ${d}] (heads, ${dim}, rank/heads) but got [${s.join(', ')}]`,
      );
    }
    if (t.dtype !== 'float32') throw new RangeError(`${name} passed to ${fn} must be float32 but got ${t.dtype}`);
  }
  return [A.shape[1] as number, B.shape[1] as number];
}

/** Per-head coefficients c_h = scale·(−1)^h as numbers (the kernels build [H,1,1] tensors). */
export function headCoefficients(cfg: SnellConfig): number[] {
  return Array.from({ length: cfg.heads }, (_, h) => (h % 2 === 0 ? cfg.scale : -cfg.scale));
}
