import type { Dataset } from './types';

/** A view of `ds` holding only `indices` (in that order); nothing is loaded or copied but the labels. */
export function subset(ds: Dataset, indices: readonly number[]): Dataset {
  checkIndices('subset()', indices, ds.size);
  const map = [...indices];
  const labels = Int32Array.from(map, (i) => ds.labels[i]);
  return {
    classes: ds.classes,
    size: map.length,
    labels,
    load: async (local) => {
      checkIndices('subset().load()', local, map.length);
      return ds.load(local.map((i) => map[i]));
    },
  };
}

/** Throws unless every index is an integer in [0, size). */
export function checkIndices(fn: string, indices: readonly number[], size: number): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= size) {
      throw new Error(`indices passed to ${fn} must be integers in [0, ${size}) but got ${i}`);
    }
  }
}
