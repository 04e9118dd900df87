import { computeSparseDelta } from '@fedsnell/snell';
import type { NamedTensor } from '@fedsnell/tensor-io';
import { aggregationGaps, exactSparseAverage, moduleGap } from './aggregation-gap';
import { SNELL, snellClients } from './snell-testing';
import type { ClientUpdate } from './types';

const MODULE = 'blocks.0.attn.q';

function sparseOf(update: ClientUpdate): Float32Array {
  const A = update.state.get(`${MODULE}.snell_A`) as NamedTensor;
  const B = update.state.get(`${MODULE}.snell_B`) as NamedTensor;
  return computeSparseDelta(A, B, SNELL).delta;
}

describe('moduleGap', () => {
  it('is 0 for an exact match', () => {
    expect(moduleGap(new Float32Array([3, 4]), new Float32Array([3, 4]))).toBe(0);
  });

  it('is relative to the target norm (3 / 5)', () => {
    expect(moduleGap(new Float32Array([0, 4]), new Float32Array([3, 4]))).toBeCloseTo(0.6, 12);
  });

  it('is absolute when the target is zero', () => {
    expect(moduleGap(new Float32Array([3, 4]), new Float32Array([0, 0]))).toBe(5);
  });
});

describe('exactSparseAverage', () => {
  it('weights the clients’ S(ΔW) by example count (1 and 2 → 1/3, 2/3)', () => {
    const clients = snellClients(2, 0.3);
    const [s0, s1] = clients.map(sparseOf);

    const target = exactSparseAverage(clients, SNELL).get(MODULE);

    expect(target?.shape).toEqual([6, 8]);
    const expected = s0.map((v, i) => v / 3 + (2 * s1[i]) / 3);
    target?.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 9));
  });

  it('is one client’s S(ΔW) when only one replied', () => {
    const [only] = snellClients(1, 0.3);

    expect(exactSparseAverage([only], SNELL).get(MODULE)?.data).toEqual(sparseOf(only));
  });
});

describe('aggregationGaps', () => {
  it('is 0 when every client sent the same factors', () => {
    const [one] = snellClients(1, 0.3);
    const twins = [one, { ...one, clientId: 'twin' }];

    expect(aggregationGaps(twins, one.state, SNELL)).toEqual({ [MODULE]: 0 });
  });

  it('is positive for averaged factors of different clients', () => {
    const clients = snellClients(2, 0.5);
    const averaged = new Map(clients[0].state);
    for (const name of [`${MODULE}.snell_A`, `${MODULE}.snell_B`]) {
      const [a, b] = clients.map((c) => c.state.get(name) as NamedTensor);
      averaged.set(name, { shape: a.shape, data: a.data.map((v, i) => v / 3 + (2 * b.data[i]) / 3) });
    }

    expect(aggregationGaps(clients, averaged, SNELL)[MODULE]).toBeGreaterThan(0.01);
  });
});
