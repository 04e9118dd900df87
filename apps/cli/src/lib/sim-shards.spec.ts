import { partitionDirichlet, partitionIid } from '@fedsnell/data';
import { simulationShards } from './sim-shards';

// 1000 examples, 10 classes of 100
const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);

describe('simulationShards', () => {
  it('is the data partition split without size skew', () => {
    expect(simulationShards(labels, { clients: 7, sizeSkew: 0, seed: 3 })).toEqual(partitionIid(1000, 7, 3));
    expect(simulationShards(labels, { clients: 7, alpha: 0.5, sizeSkew: 0, seed: 3 })).toEqual(partitionDirichlet(labels, 7, 0.5, 3, { minPerClient: 1 }));
  });

  it('spreads shard sizes with size skew and still hands out every example once', () => {
    for (const alpha of [undefined, 0.5]) {
      const shards = simulationShards(labels, { clients: 20, alpha, sizeSkew: 1, seed: 1 });

      expect(shards.flat().sort((a, b) => a - b)).toEqual([...labels.keys()]);
      const sizes = shards.map((s) => s.length);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
      // IID without skew differs by at most one; log-normal σ = 1 spreads them several-fold
      expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(3);
    }
  });

  it('repeats itself for a seed', () => {
    const a = simulationShards(labels, { clients: 20, alpha: 0.5, sizeSkew: 1, seed: 9 });

    expect(simulationShards(labels, { clients: 20, alpha: 0.5, sizeSkew: 1, seed: 9 })).toEqual(a);
    expect(simulationShards(labels, { clients: 20, alpha: 0.5, sizeSkew: 1, seed: 10 })).not.toEqual(a);
  });

  it('refuses more clients than examples', () => {
    expect(() => simulationShards(labels.subarray(0, 5), { clients: 6, sizeSkew: 1, seed: 0 })).toThrow('6 clients need at least as many training examples but there are 5');
  });
});
