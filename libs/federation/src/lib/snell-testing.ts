import { createRng, initSnellFactors, resolveSnellConfig } from '@fedsnell/snell';
import type { NamedTensor } from '@fedsnell/tensor-io';
import type { ClientUpdate } from './types';

export const SNELL = resolveSnellConfig({ rank: 4, heads: 2, sparsity: 0.5 });

function jitter(t: NamedTensor, rng: () => number, amount: number): NamedTensor {
  return { shape: t.shape, data: t.data.map((v) => v * (1 + amount * (2 * rng() - 1))) };
}

/** Clients whose factors are a shared init scaled by ±`amount` per entry, plus a dense head.bias = k. */
export function snellClients(count: number, amount: number, inF = 6, outF = 8): ClientUpdate[] {
  const rng = createRng(7);
  const base = initSnellFactors(inF, outF, SNELL, rng);
  return Array.from({ length: count }, (_, k) => ({
    clientId: `c${k}`,
    numExamples: k + 1,
    state: new Map([
      ['blocks.0.attn.q.snell_A', jitter(base.A, rng, amount)],
      ['blocks.0.attn.q.snell_B', jitter(base.B, rng, amount)],
      ['head.bias', { shape: [1], data: new Float32Array([k]) }],
    ]),
  }));
}
