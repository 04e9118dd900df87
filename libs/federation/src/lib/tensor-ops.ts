import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import type { ClientUpdate } from './types';

/**
 * The tensor names every update must share, in the first update's order. Strategies assume
 * validated updates, but a mismatch here would silently average the wrong things, so it throws.
 */
export function sharedNames(where: string, updates: readonly ClientUpdate[]): string[] {
  const [first, ...rest] = updates;
  const names = [...first.state.keys()];
  for (const update of rest) {
    for (const name of names) {
      const a = first.state.get(name) as NamedTensor;
      const b = update.state.get(name);
      if (!b) throw new Error(`${where}: client ${update.clientId} lacks tensor ${name} that client ${first.clientId} sent`);
      if (b.data.length !== a.data.length || !sameShape(a.shape, b.shape)) {
        throw new Error(
          `${where}: client ${update.clientId} sent ${name} with shape [${b.shape}], client ${first.clientId} [${a.shape}]`,
        );
      }
    }
    if (update.state.size !== names.length) {
      const extra = [...update.state.keys()].find((name) => !first.state.has(name));
      throw new Error(`${where}: client ${update.clientId} sent tensor ${extra} that client ${first.clientId} did not`);
    }
  }
  return names;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The global tensor for `name`, checked against the shape the clients sent. */
export function globalTensor(where: string, global: TensorMap, name: string, like: NamedTensor): NamedTensor {
  const tensor = global.get(name);
  if (!tensor) throw new Error(`${where}: the global state has no tensor ${name} that clients sent`);
  if (!sameShape(tensor.shape, like.shape)) {
    throw new Error(`${where}: global ${name} has shape [${tensor.shape}] but clients sent [${like.shape}]`);
  }
  return tensor;
}

/** Example-count weights normalised to sum to 1. */
export function exampleWeights(where: string, updates: readonly ClientUpdate[]): number[] {
  for (const u of updates) {
    if (!Number.isFinite(u.numExamples) || u.numExamples <= 0) {
      throw new Error(`${where}: client ${u.clientId} has numExamples ${u.numExamples}, expected a positive number`);
    }
  }
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return updates.map((u) => u.numExamples / total);
}

/** Σ_k w_k · x_k per tensor, accumulated in float64 so many clients do not lose precision. */
export function weightedSum(
  names: readonly string[],
  updates: readonly ClientUpdate[],
  weights: readonly number[],
): TensorMap {
  const out: TensorMap = new Map();
  for (const name of names) {
    const { shape, data } = updates[0].state.get(name) as NamedTensor;
    const acc = new Float64Array(data.length);
    updates.forEach((update, k) => {
      const values = (update.state.get(name) as NamedTensor).data;
      const w = weights[k];
      for (let i = 0; i < acc.length; i++) acc[i] += w * values[i];
    });
    out.set(name, { shape: [...shape], data: Float32Array.from(acc) });
  }
  return out;
}

/**
 * Σ_k n_k · x_k per tensor in float64, one update at a time (weightedSum as updates stream in);
 * `mean` divides by Σ_k n_k once. The same numbers as weightedSum with normalised weights up to
 * float64 rounding (then one float32 rounding).
 */
export class RunningWeightedSum {
  private readonly sums = new Map<string, { shape: number[]; acc: Float64Array }>();
  private total = 0;

  /** Adds n · x of every tensor; returns false, adding nothing, when the tensors differ in name or shape from the first update's. */
  add(state: TensorMap, n: number): boolean {
    if (this.sums.size > 0) {
      if (state.size !== this.sums.size) return false;
      for (const [name, { shape }] of this.sums) {
        const t = state.get(name);
        if (!t || !sameShape(t.shape, shape) || t.data.length !== this.sums.get(name)?.acc.length) return false;
      }
    } else {
      for (const [name, t] of state) this.sums.set(name, { shape: [...t.shape], acc: new Float64Array(t.data.length) });
    }
    for (const [name, { acc }] of this.sums) {
      const values = (state.get(name) as NamedTensor).data;
      for (let i = 0; i < acc.length; i++) acc[i] += n * values[i];
    }
    this.total += n;
    return true;
  }

  /** The example-weighted mean of every tensor, in the order of `names` (each must have been summed). */
  mean(names: readonly string[]): TensorMap {
    const out: TensorMap = new Map();
    for (const name of names) {
      const entry = this.sums.get(name);
      if (!entry) throw new Error(`RunningWeightedSum.mean(): no update had tensor ${name}`);
      const data = new Float32Array(entry.acc.length);
      for (let i = 0; i < data.length; i++) data[i] = entry.acc[i] / this.total;
      out.set(name, { shape: [...entry.shape], data });
    }
    return out;
  }
}

/**
 * Applies `reduce` to the k client values of each coordinate (robust statistics). `column` is reused
 * between coordinates; `reduce` may reorder it.
 */
export function coordinateWise(
  names: readonly string[],
  updates: readonly ClientUpdate[],
  reduce: (column: Float64Array) => number,
): TensorMap {
  const out: TensorMap = new Map();
  const column = new Float64Array(updates.length);
  for (const name of names) {
    const { shape, data } = updates[0].state.get(name) as NamedTensor;
    const sources = updates.map((u) => (u.state.get(name) as NamedTensor).data);
    const result = new Float32Array(data.length);
    for (let i = 0; i < result.length; i++) {
      for (let k = 0; k < sources.length; k++) column[k] = sources[k][i];
      result[i] = reduce(column);
    }
    out.set(name, { shape: [...shape], data: result });
  }
  return out;
}
