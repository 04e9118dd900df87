import * as tf from '@tensorflow/tfjs';

/**
 * FedProx (Li et al. 2020): the loss gains μ/2·Σ‖w − w₀‖² towards the starting state w₀, so each
 * gradient gains μ·(w − w₀) — including trainables the cross-entropy does not reach. Returns new
 * tensors (the inputs are left alone); call inside tf.tidy.
 */
export function withProximalTerm(
  grads: tf.NamedTensorMap,
  loss: tf.Scalar,
  variables: ReadonlyMap<string, tf.Variable>,
  anchors: ReadonlyMap<string, tf.Tensor>,
  mu: number,
): { grads: tf.NamedTensorMap; loss: tf.Scalar } {
  let squares: tf.Scalar = tf.scalar(0);
  const out: tf.NamedTensorMap = {};
  for (const [name, w] of variables) {
    const d = tf.sub(w, anchors.get(name) as tf.Tensor);
    squares = tf.add(squares, tf.sum(tf.square(d)));
    const pull = tf.mul(d, mu);
    const g = grads[name];
    out[name] = g ? tf.add(g, pull) : pull;
  }
  return { grads: out, loss: tf.add(loss, tf.mul(mu / 2, squares)) };
}
