import { computeSparseDelta } from '@fedsnell/snell';
import { moduleGap } from './aggregation-gap';
import { snellModules } from './snell-modules';
import { inThreadSparseDeltas, SparseDeltaSums } from './sparse-deltas';
import { SNELL, snellClients } from './snell-testing';

const factorsOf = (k: number, count = 3) => snellModules('test', snellClients(count, 0.5)[k].state);

describe('SparseDeltaSums', () => {
  it('measures the same gaps whether it divides on the way or reads the kept means', () => {
    const sums = new SparseDeltaSums(SNELL);
    for (let k = 0; k < 3; k++) for (const [module, f] of factorsOf(k)) sums.add(module, f, k + 1);
    const probe = [...factorsOf(0, 4)];
    const before = sums.gaps(probe, 6);

    const means = sums.take(6);
    const after = sums.gaps(probe, 6);

    expect(after).toEqual(before);
    const [[module, { A, B }]] = probe;
    expect(after[module]).toBe(moduleGap(computeSparseDelta(A, B, SNELL).delta, means.get(module)?.data ?? new Float32Array()));
  });

  it('writes, while measuring gaps first, the very means take computes on its own', () => {
    const fused = new SparseDeltaSums(SNELL);
    const plain = new SparseDeltaSums(SNELL);
    for (let k = 0; k < 3; k++) {
      for (const [module, f] of factorsOf(k)) {
        fused.add(module, f, k + 2);
        plain.add(module, f, k + 2);
      }
    }

    fused.gaps([...factorsOf(0, 4)], 9);

    expect([...fused.take(9)]).toEqual([...plain.take(9)]);
  });

  it('forgets the means when more is added', () => {
    const sums = new SparseDeltaSums(SNELL);
    for (const [module, f] of factorsOf(0)) sums.add(module, f, 1);
    const first = sums.take(1);

    for (const [module, f] of factorsOf(1)) sums.add(module, f, 1);
    const second = sums.take(2);

    expect(second).not.toBe(first);
    const [module] = first.keys();
    expect(second.get(module)?.data).not.toEqual(first.get(module)?.data);
  });

  it('never writes again into a mean it handed out', () => {
    const sums = new SparseDeltaSums(SNELL);
    for (const [module, f] of factorsOf(0)) sums.add(module, f, 2);
    const [first] = sums.take(2).values();
    const copy = Float32Array.from(first.data);

    const [other] = sums.take(4).values();

    expect(first.data).toEqual(copy);
    expect(other.data).toEqual(copy.map((v) => Math.fround(v / 2)));
  });

  it('writes the means into the arrays the allocator gives', () => {
    const sums = new SparseDeltaSums(SNELL, (length) => new Float32Array(new SharedArrayBuffer(4 * length)));
    for (const [module, f] of factorsOf(0)) sums.add(module, f, 2);

    const [mean] = sums.take(2).values();

    expect(mean.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('inThreadSparseDeltas', () => {
  it('take hands out a map the caller may change without touching the kept means', async () => {
    const engine = inThreadSparseDeltas(SNELL);
    await engine.accumulate(factorsOf(0), 1);
    const first = await engine.take(1);

    first.clear();

    expect((await engine.take(1)).size).toBe(1);
  });
});
