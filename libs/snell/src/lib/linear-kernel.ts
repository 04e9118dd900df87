import * as tf from '@tensorflow/tfjs';

/*
 * The linear kernel is LoRA: one head, no coefficient, ΔW = A₀·B₀ᵀ [in, out]. Plain matMuls with
 * explicit transposes of the thin factors only (transposed-flag matMuls are slow on wasm).
 */

export function linearMerge(A: tf.Tensor3D, B: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(tf.squeeze<tf.Tensor2D>(A, [0]), tf.transpose(tf.squeeze<tf.Tensor2D>(B, [0]))));
}

/** gradA₀ = G·B₀, gradB₀ = Gᵀ·A₀ = (A₀ᵀ·G)ᵀ. */
export function linearMergeGrad(A: tf.Tensor3D, B: tf.Tensor3D, G: tf.Tensor2D): [tf.Tensor3D, tf.Tensor3D] {
  return tf.tidy(() => {
    const a = tf.squeeze<tf.Tensor2D>(A, [0]);
    const b = tf.squeeze<tf.Tensor2D>(B, [0]);
    const gradA = tf.expandDims(tf.matMul(G, b), 0) as tf.Tensor3D;
    const gradB = tf.expandDims(tf.transpose(tf.matMul(tf.transpose(a), G)), 0) as tf.Tensor3D;
    return [gradA, gradB];
  });
}
