import { preprocessImage, type PreprocessConfig } from './preprocess';
import { checkIndices } from './subset';
import type { Dataset, RawImage } from './types';

/**
 * A Dataset over raw images given by index (e.g. in memory, or decoded on demand); each image is
 * preprocessed only when loaded, so 28x28 digits do not turn into 224x224 floats until a batch asks.
 */
export function rawImageDataset(
  classes: string[],
  labels: Int32Array,
  getImage: (index: number) => RawImage | Promise<RawImage>,
  preprocess: PreprocessConfig,
): Dataset {
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes.length) {
      throw new Error(`labels passed to rawImageDataset() must be in [0, ${classes.length}) but got ${labels[i]} at ${i}`);
    }
  }
  const [c, h, w] = preprocess.inputSize;
  const per = c * h * w;
  return {
    classes,
    size: labels.length,
    labels,
    async load(indices) {
      checkIndices('load()', indices, labels.length);
      const x = new Float32Array(indices.length * per);
      const y = new Int32Array(indices.length);
      for (let k = 0; k < indices.length; k++) {
        x.set(preprocessImage(await getImage(indices[k]), preprocess), k * per);
        y[k] = labels[indices[k]];
      }
      return { x, y };
    },
  };
}
