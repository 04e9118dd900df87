import { tensors, update } from './fixtures.testing';
import { RunningWeightedSum, weightedSum } from './tensor-ops';

describe('RunningWeightedSum', () => {
  it('gives the example-weighted mean, in the order asked', () => {
    const sum = new RunningWeightedSum();
    sum.add(tensors({ w: [1, 2], b: [0] }), 1);
    sum.add(tensors({ w: [4, 8], b: [3] }), 2);

    const mean = sum.mean(['b', 'w']);

    expect([...mean.keys()]).toEqual(['b', 'w']);
    expect([...(mean.get('w')?.data ?? [])]).toEqual([3, 6]);
    expect([...(mean.get('b')?.data ?? [])]).toEqual([2]);
  });

  it('agrees with weightedSum to float32 rounding', () => {
    const updates = [update('a', 3, { w: [0.1, -0.7, 1e-3] }), update('b', 5, { w: [0.3, 0.2, 7] }), update('c', 11, { w: [-0.9, 0.5, 0.25] })];
    const sum = new RunningWeightedSum();
    for (const u of updates) sum.add(u.state, u.numExamples);

    const streamed = sum.mean(['w']).get('w')?.data ?? new Float32Array();
    const batch = weightedSum(['w'], updates, [3 / 19, 5 / 19, 11 / 19]).get('w')?.data ?? new Float32Array();

    batch.forEach((v, i) => expect(Math.abs(streamed[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -23));
  });

  it('refuses, adding nothing, an update whose tensors differ from the first', () => {
    const sum = new RunningWeightedSum();
    sum.add(tensors({ w: [1, 2] }), 1);

    expect(sum.add(tensors({ w: [1, 2, 3] }), 1)).toBe(false);
    expect(sum.add(tensors({ v: [1, 2] }), 1)).toBe(false);
    expect(sum.add(tensors({ w: [1, 2], v: [0] }), 1)).toBe(false);
    expect([...(sum.mean(['w']).get('w')?.data ?? [])]).toEqual([1, 2]);
  });

  it('names a tensor no update had', () => {
    const sum = new RunningWeightedSum();
    sum.add(tensors({ w: [1] }), 1);

    expect(() => sum.mean(['head.bias'])).toThrow('RunningWeightedSum.mean(): no update had tensor head.bias');
  });
});
