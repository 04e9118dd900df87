import type { Dataset } from '@fedsnell/data';
import { createRng } from '@fedsnell/snell';

/**
 * A learnable two-class test set made here (not real data): class 0 has a bright left half,
 * class 1 a bright right half, both with seeded noise. Images are CHW [3, size, size].
 */
export function halvesDataset(count: number, size: number, seed: number): Dataset {
  const rng = createRng(seed);
  const pixels = 3 * size * size;
  const images: Float32Array[] = [];
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    labels[i] = label;
    const img = new Float32Array(pixels);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const bright = (x < size / 2) === (label === 0);
          img[c * size * size + y * size + x] = (bright ? 1 : -1) * 0.5 + (rng() - 0.5) * 0.6;
        }
      }
    }
    images.push(img);
  }
  return {
    classes: ['left', 'right'],
    size: count,
    labels,
    async load(indices: number[]) {
      const x = new Float32Array(indices.length * pixels);
      const y = new Int32Array(indices.length);
      indices.forEach((idx, k) => {
        x.set(images[idx], k * pixels);
        y[k] = labels[idx];
      });
      return { x, y };
    },
  };
}
