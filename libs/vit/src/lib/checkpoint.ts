import * as tf from '@tensorflow/tfjs';

/**
 * Gradient checkpointing: y = fn(inputs) runs without recording its intermediates; the backward pass
 * recomputes fn on the saved inputs under a nested gradient tape and returns the gradients of all
 * inputs. Memory between forward and backward drops to the inputs; the price is one more forward of fn.
 * fn must compute the same function both times (replay any randomness).
 *
 * tfjs's engine keeps one active tape and a nested tf.grads run from a gradient function replaces it
 * (and nulls it at the end), so the outer tape is put back afterwards.
 */
export function checkpoint(fn: (inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const tensors = args.slice(0, -1) as tf.Tensor[];
    save(tensors);
    const value = tf.tidy(() => fn(tensors));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const state = tf.engine().state;
        const outerTape = state.activeTape;
        try {
          return tf.grads((...xs: tf.Tensor[]) => fn(xs))(saved, dy as tf.Tensor);
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return op(...inputs);
}
