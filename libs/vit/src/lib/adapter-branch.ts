import * as tf from '@tensorflow/tfjs';
import { snellMatMul } from '@fedsnell/snell';
import type { CompetitionThreshold, SnellConfig, SnellMatMulOptions } from '@fedsnell/snell';

export interface AdapterRegularisation {
  /** Dropout rate on the adapter input (reference: 0.1 in training). */
  dropout: number;
  /** Drop-path rate on the adapter output, one draw per sample (reference: 0.1 in training). */
  dropPath: number;
  /** Tokens per sample: rows [i·tokens, (i+1)·tokens) of x belong to sample i. */
  tokens: number;
  rng: () => number;
}

/**
 * Dropout on an adapter input, seeded from `reg.rng`. The reference draws one mask for the q/k/v
 * adapters together, one each for fc1 and fc2, and none for proj; the caller decides which inputs.
 */
export function adapterInput(x: tf.Tensor2D, reg: AdapterRegularisation | undefined): tf.Tensor2D {
  if (!reg || reg.dropout === 0) return x;
  const mask = tf.tensor2d(dropoutMask(x.size, reg.dropout, Math.floor(reg.rng() * 2147483647)), x.shape);
  const out = tf.mul(x, mask) as tf.Tensor2D;
  mask.dispose();
  return out;
}

/**
 * An inverted-dropout multiplier (0 with probability `rate`, else 1/(1 − rate)) from a 32-bit seed.
 * tf.dropout draws its uniforms through a float64 PRNG in JS and then runs four kernels (about 7 ms
 * for a [788, 768] input on wasm, ×3 adapter inputs per block); mulberry32 with an integer
 * threshold is several times cheaper, and one multiply applies it.
 */
function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const mask = new Float32Array(size);
  const scale = 1 / (1 - rate);
  const cut = Math.floor(rate * 4294967296);
  let state = seed | 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    if ((t ^ (t >>> 14)) >>> 0 >= cut) mask[i] = scale;
  }
  return mask;
}

/**
 * The parallel SNELL (or LoRA) branch of one linear layer: x·S(ΔW) for x [rows, in], with
 * per-sample drop-path on its output (timm DropPath: keep with 1 − p, scale by 1/(1 − p)).
 * `options` go to snellMatMul (τ read back to the caller, distances kept for the backward).
 */
export function adapterBranch(
  x: tf.Tensor2D,
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  cfg: SnellConfig,
  reg?: AdapterRegularisation,
  threshold?: CompetitionThreshold,
  options?: SnellMatMulOptions,
): tf.Tensor2D {
  const delta = snellMatMul(x, a, b, cfg, threshold, options);
  if (!reg || reg.dropPath === 0) return delta;
  const rows = x.shape[0];
  const keep = new Float32Array(rows);
  const scale = 1 / (1 - reg.dropPath);
  for (let start = 0; start < rows; start += reg.tokens) {
    keep.fill(reg.rng() >= reg.dropPath ? scale : 0, start, Math.min(start + reg.tokens, rows));
  }
  const mask = tf.tensor2d(keep, [rows, 1]);
  const out = tf.mul(delta, mask) as tf.Tensor2D;
  delta.dispose();
  mask.dispose();
  return out;
}
