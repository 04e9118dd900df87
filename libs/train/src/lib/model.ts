import type * as tf from '@tensorflow/tfjs';
import type { ForwardOptions } from '@fedsnell/vit';

/** What the trainer needs of a model: the input size and a forward pass with trainables. */
export interface TrainableModel {
  readonly config: { imgSize: readonly [number, number] | readonly number[] };
  forward(x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D;
}
