import type { TensorMap } from '@fedsnell/tensor-io';
import type { AggregationContext, ClientUpdate } from './types';

/** `{w: [1, 2]}` → a TensorMap of rank-1 tensors; `[shape, values]` pairs for other ranks. */
export function tensors(values: Record<string, number[] | [number[], number[]]>): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, v] of Object.entries(values)) {
    const [shape, data] = Array.isArray(v[0]) ? (v as [number[], number[]]) : [[v.length], v as number[]];
    out.set(name, { shape, data: new Float32Array(data) });
  }
  return out;
}

export function update(clientId: string, numExamples: number, values: Record<string, number[]>): ClientUpdate {
  return { clientId, numExamples, state: tensors(values) };
}

export function context(global: Record<string, number[]>, round = 1): AggregationContext {
  return { round, global: tensors(global), rng: () => 0.5 };
}

export function valuesOf(state: TensorMap | undefined, name: string): number[] {
  const tensor = state?.get(name);
  if (!tensor) throw new Error(`no tensor ${name} in the result`);
  return [...tensor.data];
}
