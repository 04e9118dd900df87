import * as tf from '@tensorflow/tfjs';

/**
 * matMul whose forward and backward only ever run the plain (untransposed) kernel.
 *
 * tfjs's own BatchMatMul gradient calls matMul with transposeA/transposeB flags, which on the wasm
 * backend runs ~20x slower than the plain SIMD kernel (0.8 vs 15 GFLOP/s on a 2-core CPU). Here every
 * transpose is materialised with tf.transpose (a memory copy) and the product is a plain matMul.
 * Works for rank 2 and rank 3 (batched) operands of equal rank.
 */
export function plainMatMul<T extends tf.Tensor2D | tf.Tensor3D>(
  a: T,
  b: T,
  transposeA = false,
  transposeB = false,
): T {
  if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3)) {
    throw new Error(`plainMatMul() needs two rank-2 or two rank-3 tensors but got ranks ${a.rank} and ${b.rank}`);
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, y]);
    const xa = transposeA ? swapLast(x) : x;
    const yb = transposeB ? swapLast(y) : y;
    const value = tf.matMul(xa, yb);
    if (xa !== x) xa.dispose();
    if (yb !== y) yb.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        if (Array.isArray(dy)) throw new Error('plainMatMul() has a single output');
        const [sx, sy] = saved;
        // C = op(X)·op(Y): dop(X) = dC·op(Y)ᵀ, dop(Y) = op(X)ᵀ·dC. Each product is written so that
        // at most one operand is transposed and no transpose is undone by another:
        //   dX = dC·op(Y)ᵀ, or when X was transposed, dX = (dC·op(Y)ᵀ)ᵀ = op(Y)·dCᵀ;
        //   dY = op(X)ᵀ·dC, or when Y was transposed, dY = (op(X)ᵀ·dC)ᵀ = dCᵀ·op(X).
        return tf.tidy(() => {
          const dx = transposeA
            ? tf.matMul(transposeB ? swapLast(sy) : sy, swapLast(dy))
            : tf.matMul(dy, transposeB ? sy : swapLast(sy));
          const dyOut = transposeB
            ? tf.matMul(swapLast(dy), transposeA ? swapLast(sx) : sx)
            : tf.matMul(transposeA ? sx : swapLast(sx), dy);
          return [dx, dyOut];
        });
      },
    };
  });
  return op(a, b) as T;
}

function swapLast(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? tf.transpose(t) : tf.transpose(t, [0, 2, 1]);
}
