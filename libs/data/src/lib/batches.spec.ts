import { batchIterator, type Batch } from './batches';
import type { Dataset } from './types';

/** x holds each example's index as its single value, so batches show which examples they carry. */
function indexDataset(size: number): Dataset & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    classes: ['even', 'odd'],
    size,
    labels: Int32Array.from({ length: size }, (_, i) => i % 2),
    calls,
    async load(indices) {
      calls.push(indices);
      return { x: Float32Array.from(indices), y: Int32Array.from(indices, (i) => i % 2) };
    },
  };
}

async function collect(it: AsyncGenerator<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('batchIterator', () => {
  it('keeps index order without shuffle', async () => {
    const batches = await collect(batchIterator(indexDataset(5), { batchSize: 2 }));
    expect(batches.map((b) => [...b.x])).toEqual([[0, 1], [2, 3], [4]]);
    expect(batches.map((b) => b.n)).toEqual([2, 2, 1]);
  });

  it('drops the short last batch on request', async () => {
    const batches = await collect(batchIterator(indexDataset(5), { batchSize: 2, dropLast: true }));
    expect(batches.map((b) => b.n)).toEqual([2, 2]);
  });

  it('covers every example once when shuffled', async () => {
    const batches = await collect(batchIterator(indexDataset(23), { batchSize: 4, shuffle: true, seed: 3 }));
    const seen = batches.flatMap((b) => [...b.x]).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('repeats the order for the same seed and epoch', async () => {
    const a = await collect(batchIterator(indexDataset(20), { batchSize: 20, shuffle: true, seed: 1, epoch: 2 }));
    const b = await collect(batchIterator(indexDataset(20), { batchSize: 20, shuffle: true, seed: 1, epoch: 2 }));
    expect([...a[0].x]).toEqual([...b[0].x]);
  });

  it('changes the order between epochs', async () => {
    const a = await collect(batchIterator(indexDataset(20), { batchSize: 20, shuffle: true, seed: 1, epoch: 0 }));
    const b = await collect(batchIterator(indexDataset(20), { batchSize: 20, shuffle: true, seed: 1, epoch: 1 }));
    expect([...a[0].x]).not.toEqual([...b[0].x]);
  });

  it('shuffles with a caller rng', async () => {
    const [batch] = await collect(batchIterator(indexDataset(4), { batchSize: 4, shuffle: true, rng: () => 0 }));
    // Fisher-Yates with j = 0 each step: [0,1,2,3] -> [3,1,2,0] -> [2,1,3,0] -> [1,2,3,0]
    expect([...batch.x]).toEqual([1, 2, 3, 0]);
  });

  it('keeps labels with their images', async () => {
    const [batch] = await collect(batchIterator(indexDataset(6), { batchSize: 6, shuffle: true, seed: 9 }));
    expect([...batch.y]).toEqual([...batch.x].map((i) => i % 2));
  });

  it('prefetches at most one batch ahead', async () => {
    const ds = indexDataset(10);
    const it = batchIterator(ds, { batchSize: 2 });
    await it.next();
    expect(ds.calls.length).toBe(2);
    await it.return(undefined);
    expect(ds.calls.length).toBe(2);
  });

  it('rejects a zero batch size', async () => {
    await expect(batchIterator(indexDataset(3), { batchSize: 0 }).next()).rejects.toThrow(
      'batchSize passed to batchIterator() must be a positive integer but got 0',
    );
  });
});
