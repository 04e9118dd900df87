import { partitionDirichlet, partitionIid } from './partition';

const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
const sortedAll = (parts: number[][]) => parts.flat().sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Mean over clients of the share of the client's largest class: 0.1 is perfectly balanced here. */
function dominance(parts: number[][]): number {
  const shares = parts.map((part) => {
    const hist = new Array(10).fill(0);
    for (const i of part) hist[labels[i]]++;
    return Math.max(...hist) / part.length;
  });
  return shares.reduce((a, b) => a + b, 0) / shares.length;
}

describe('partitionIid', () => {
  it('sizes parts within one of each other', () => {
    expect(partitionIid(10, 3, 1).map((p) => p.length)).toEqual([4, 3, 3]);
  });

  it('uses every index exactly once', () => {
    expect(sortedAll(partitionIid(labels, 7, 2))).toEqual(range(1000));
  });

  it('repeats for a seed', () => {
    expect(partitionIid(50, 4, 5)).toEqual(partitionIid(50, 4, 5));
  });

  it('differs between seeds', () => {
    expect(partitionIid(50, 4, 5)).not.toEqual(partitionIid(50, 4, 6));
  });

  it('rejects more clients than examples', () => {
    expect(() => partitionIid(2, 3, 0)).toThrow('partitionIid() needs at least numClients (3) examples but got 2');
  });

  it('rejects zero clients', () => {
    expect(() => partitionIid(5, 0, 0)).toThrow('numClients passed to partitionIid() must be a positive integer but got 0');
  });
});

describe('partitionDirichlet', () => {
  it('uses every index exactly once', () => {
    expect(sortedAll(partitionDirichlet(labels, 5, 0.5, 1))).toEqual(range(1000));
  });

  it('repeats for a seed', () => {
    expect(partitionDirichlet(labels, 5, 0.5, 3)).toEqual(partitionDirichlet(labels, 5, 0.5, 3));
  });

  it('differs between seeds', () => {
    expect(partitionDirichlet(labels, 5, 0.5, 3)).not.toEqual(partitionDirichlet(labels, 5, 0.5, 4));
  });

  it('skews label histograms for small alpha', () => {
    const skewed = dominance(partitionDirichlet(labels, 5, 0.05, 1));
    const even = dominance(partitionDirichlet(labels, 5, 1000, 1));
    expect(skewed).toBeGreaterThan(0.4);
    expect(even).toBeLessThan(0.15);
  });

  it('honours minPerClient', () => {
    const parts = partitionDirichlet(labels, 10, 0.1, 2, { minPerClient: 20 });
    expect(Math.min(...parts.map((p) => p.length))).toBeGreaterThanOrEqual(20);
  });

  it('gives up with a clear error when the minimum is unreachable', () => {
    expect(() => partitionDirichlet(labels, 10, 0.01, 1, { minPerClient: 99, maxTries: 3 })).toThrow(
      'partitionDirichlet() could not give each of 10 clients at least 99 examples in 3 draws',
    );
  });

  it('rejects a non-positive alpha', () => {
    expect(() => partitionDirichlet(labels, 2, 0, 1)).toThrow(
      'alpha passed to partitionDirichlet() must be a positive finite number but got 0',
    );
  });

  it('rejects a negative label', () => {
    expect(() => partitionDirichlet([0, -1], 1, 1, 1)).toThrow('labels passed to partitionDirichlet() must be non-negative integers but got -1 at 1');
  });
});
