import * as tf from '@tensorflow/tfjs';
import { plainMatMul } from '@fedsnell/snell';

/**
 * Multi-head scaled dot-product attention softmax(q·kᵀ/√dh)·v for q, k, v [samples·tokens, d] (rows
 * sample-major, columns head-major, as the qkv linear lays them out); returns the heads merged back
 * into [samples·tokens, d].
 *
 * On wasm (and cpu) a batched BatchMatMul over [samples·heads, tokens, dh] runs a naive loop at
 * ~3 GFLOP/s while a 2-D matMul reaches ~30, and every tf.slice/split/unstack copies its whole
 * input out of the wasm heap, so peeling 2-D slices off a batch costs as much as the product. Those
 * backends therefore read q, k, v once, lay out the per-(sample, head) matrices on the host (the
 * head split and kᵀ cost nothing there) and run plain 2-D matMuls, with a hand-written backward
 * that keeps only q, k, v and the softmax outputs. Other backends (WebGPU: no synchronous reads,
 * fast batched kernels) keep the batched form.
 */
/**
 * Below this many tokens per image the per-(sample, head) matMuls are too small to pay for their
 * dispatch and host copies: a 28x28 image in 7x7 patches (17 tokens, 4 heads, batch 128) trains a
 * step in half the CPU time batched on wasm; ViT-Ti's 197 tokens keep the sliced form.
 */
export const SLICED_MIN_TOKENS = 64;

export function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, samples: number, heads: number): tf.Tensor2D {
  const backend = tf.getBackend();
  const tokens = q.shape[0] / samples;
  return (backend === 'wasm' || backend === 'cpu') && tokens >= SLICED_MIN_TOKENS
    ? slicedAttention(q, k, v, samples, heads)
    : batchedAttention(q, k, v, samples, heads);
}

interface Layout {
  samples: number;
  tokens: number;
  heads: number;
  dh: number;
}

function layoutOf(q: tf.Tensor2D, samples: number, heads: number): Layout {
  const [rows, d] = q.shape;
  return { samples, tokens: rows / samples, heads, dh: d / heads };
}

/** The batched formulation (what every backend ran before): [samples·heads, tokens, dh] operands. */
export function batchedAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, samples: number, heads: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { tokens, dh } = layoutOf(q, samples, heads);
    const d = q.shape[1];
    const split = (t: tf.Tensor2D): tf.Tensor3D =>
      tf.reshape(tf.transpose(tf.reshape(t, [samples, tokens, heads, dh]), [0, 2, 1, 3]), [samples * heads, tokens, dh]) as tf.Tensor3D;
    const scores = tf.mul(plainMatMul(split(q), split(k), false, true), 1 / Math.sqrt(dh)) as tf.Tensor3D;
    const context = plainMatMul(tf.softmax(scores) as tf.Tensor3D, split(v));
    return tf.reshape(tf.transpose(tf.reshape(context, [samples, heads, tokens, dh]), [0, 2, 1, 3]), [samples * tokens, d]) as tf.Tensor2D;
  });
}

/**
 * The (sample, head) blocks of x [samples·tokens, d] as 2-D tensors, each times `scale`: [tokens, dh],
 * or [dh, tokens] when `transposed`. Order: sample-major, then head.
 */
function headBlocks(x: Float32Array, lay: Layout, scale: number, transposed: boolean): tf.Tensor2D[] {
  const { samples, tokens, heads, dh } = lay;
  const d = heads * dh;
  const blocks: tf.Tensor2D[] = [];
  for (let s = 0; s < samples; s++) {
    for (let h = 0; h < heads; h++) {
      const out = new Float32Array(tokens * dh);
      for (let i = 0; i < tokens; i++) {
        const src = (s * tokens + i) * d + h * dh;
        if (transposed) {
          for (let j = 0; j < dh; j++) out[j * tokens + i] = x[src + j] * scale;
        } else if (scale === 1) {
          out.set(x.subarray(src, src + dh), i * dh);
        } else {
          for (let j = 0; j < dh; j++) out[i * dh + j] = x[src + j] * scale;
        }
      }
      blocks.push(tf.tensor2d(out, transposed ? [dh, tokens] : [tokens, dh]));
    }
  }
  return blocks;
}

/** The inverse of headBlocks for [tokens, dh] blocks: one [samples·tokens, d] tensor, times `scale`. */
function mergeBlocks(blocks: tf.Tensor2D[], lay: Layout, scale: number): tf.Tensor2D {
  const { samples, tokens, heads, dh } = lay;
  const d = heads * dh;
  const out = new Float32Array(samples * tokens * d);
  blocks.forEach((block, b) => {
    const s = Math.floor(b / heads);
    const h = b % heads;
    const data = block.dataSync() as Float32Array;
    for (let i = 0; i < tokens; i++) {
      const dst = (s * tokens + i) * d + h * dh;
      if (scale === 1) out.set(data.subarray(i * dh, (i + 1) * dh), dst);
      else for (let j = 0; j < dh; j++) out[dst + j] = data[i * dh + j] * scale;
    }
  });
  return tf.tensor2d(out, [samples * tokens, d]);
}

export function slicedAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, samples: number, heads: number): tf.Tensor2D {
  const lay = layoutOf(q, samples, heads);
  const scale = 1 / Math.sqrt(lay.dh);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    // The scale goes on q (tokens·dh products) rather than on the scores (tokens² products).
    const qs = headBlocks(qi.dataSync() as Float32Array, lay, scale, false);
    const kts = headBlocks(ki.dataSync() as Float32Array, lay, 1, true);
    const vs = headBlocks(vi.dataSync() as Float32Array, lay, 1, false);
    const probs = qs.map((qb, b) => tf.softmax(tf.matMul(qb, kts[b])) as tf.Tensor2D);
    const value = mergeBlocks(
      probs.map((p, b) => tf.matMul(p, vs[b])),
      lay,
      1,
    );
    save([qi, ki, vi, ...probs]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sq, sk, sv, ...sp] = saved as tf.Tensor2D[];
          const dcs = headBlocks((dy as tf.Tensor).dataSync() as Float32Array, lay, 1, false);
          const vts = headBlocks(sv.dataSync() as Float32Array, lay, 1, true);
          const ks = headBlocks(sk.dataSync() as Float32Array, lay, 1, false);
          const qsb = headBlocks(sq.dataSync() as Float32Array, lay, 1, false);
          const dq: tf.Tensor2D[] = [];
          const dk: tf.Tensor2D[] = [];
          const dv: tf.Tensor2D[] = [];
          sp.forEach((p, b) => {
            dv.push(tf.matMul(tf.transpose(p), dcs[b]));
            const dp = tf.matMul(dcs[b], vts[b]);
            // softmax backward: dS = P ⊙ (dP − rowsum(dP ⊙ P))
            const ds = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))) as tf.Tensor2D;
            // scores = scale·q·kᵀ: dq = scale·dS·k, dk = scale·dSᵀ·q (scale applied in mergeBlocks)
            dq.push(tf.matMul(ds, ks[b]));
            dk.push(tf.matMul(tf.transpose(ds), qsb[b]));
          });
          return [mergeBlocks(dq, lay, scale), mergeBlocks(dk, lay, scale), mergeBlocks(dv, lay, 1)];
        }),
    };
  });
  return op(q, k, v) as tf.Tensor2D;
}
