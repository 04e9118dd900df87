import { rawImageDataset } from './raw-dataset';
import { subset } from './subset';
import type { RawImage } from './types';

const pixel = (v: number): RawImage => ({ width: 1, height: 1, channels: 1, data: new Uint8Array([v]) });
const config = { inputSize: [3, 1, 1] as [number, number, number], mean: [0, 0, 0], std: [1, 1, 1] };
const ds = rawImageDataset(['a', 'b'], new Int32Array([0, 1, 1, 0]), (i) => pixel(i * 51), config);

describe('rawImageDataset', () => {
  it('loads preprocessed NCHW in the order asked', async () => {
    const { x, y } = await ds.load([3, 1]);
    expect([...x]).toEqual([0.6, 0.6, 0.6, 0.2, 0.2, 0.2].map(Math.fround));
    expect([...y]).toEqual([0, 1]);
  });

  it('rejects an out-of-range index', async () => {
    await expect(ds.load([4])).rejects.toThrow('indices passed to load() must be integers in [0, 4) but got 4');
  });

  it('rejects a label without a class', () => {
    expect(() => rawImageDataset(['a'], new Int32Array([1]), () => pixel(0), config)).toThrow(
      'labels passed to rawImageDataset() must be in [0, 1) but got 1 at 0',
    );
  });
});

describe('subset', () => {
  it('maps local indices to the parent', async () => {
    const sub = subset(ds, [2, 0]);
    const { y } = await sub.load([1, 0]);
    expect(sub.size).toBe(2);
    expect([...sub.labels]).toEqual([1, 0]);
    expect([...y]).toEqual([0, 1]);
  });

  it('rejects an index outside the parent', () => {
    expect(() => subset(ds, [5])).toThrow('indices passed to subset() must be integers in [0, 4) but got 5');
  });

  it('rejects a local index outside the subset', async () => {
    await expect(subset(ds, [1]).load([1])).rejects.toThrow('must be integers in [0, 1) but got 1');
  });
});
