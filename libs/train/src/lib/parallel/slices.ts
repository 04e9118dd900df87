import type { TensorMap } from '@fedsnell/tensor-io';
import type { PackedBackbone } from './messages';

/**
 * Splits n examples into at most `parts` contiguous slices as even as possible (earlier slices take
 * the remainder); empty slices are left out.
 */
export function sliceBatch(n: number, parts: number): { start: number; count: number }[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n passed to sliceBatch() must be a non-negative integer but got ${n}`);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts passed to sliceBatch() must be a positive integer but got ${parts}`);
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const out: { start: number; count: number }[] = [];
  let start = 0;
  for (let k = 0; k < parts; k++) {
    const count = base + (k < extra ? 1 : 0);
    if (count > 0) out.push({ start, count });
    start += count;
  }
  return out;
}

/**
 * The gradient of the mean loss over the whole batch from each slice's mean-loss gradient:
 * Σ_k (n_k / n) · g_k, accumulated in float64 and rounded once.
 */
export function weightedMean(parts: { values: Float32Array[]; n: number }[]): Float32Array[] {
  if (parts.length === 0) throw new RangeError('parts passed to weightedMean() must not be empty');
  const total = parts.reduce((s, p) => s + p.n, 0);
  return parts[0].values.map((first, i) => {
    const acc = new Float64Array(first.length);
    for (const p of parts) {
      const v = p.values[i];
      if (v.length !== first.length) {
        throw new RangeError(`parts passed to weightedMean() must agree in length but tensor ${i} has ${v.length} and ${first.length} values`);
      }
      const w = p.n / total;
      for (let j = 0; j < v.length; j++) acc[j] += w * v[j];
    }
    return Float32Array.from(acc);
  });
}

/** Copies every tensor of a map into one SharedArrayBuffer (float32, in map order). */
export function packBackbone(configJson: Record<string, unknown>, tensors: TensorMap): PackedBackbone {
  let total = 0;
  const entries: PackedBackbone['entries'] = [];
  for (const [name, t] of tensors) {
    entries.push({ name, shape: [...t.shape], offset: total, length: t.data.length });
    total += t.data.length;
  }
  const buffer = new SharedArrayBuffer(total * 4);
  const view = new Float32Array(buffer);
  for (const e of entries) view.set((tensors.get(e.name) as { data: Float32Array }).data, e.offset);
  return { configJson, buffer, entries };
}

/** Views (no copies) of a packed backbone's tensors. */
export function unpackBackbone(packed: PackedBackbone): TensorMap {
  const out: TensorMap = new Map();
  for (const e of packed.entries) out.set(e.name, { shape: e.shape, data: new Float32Array(packed.buffer, e.offset * 4, e.length) });
  return out;
}
