import { packBackbone, sliceBatch, unpackBackbone, weightedMean } from './slices';

describe('sliceBatch', () => {
  it('splits evenly, remainder first', () => {
    expect(sliceBatch(7, 3)).toEqual([
      { start: 0, count: 3 },
      { start: 3, count: 2 },
      { start: 5, count: 2 },
    ]);
  });

  it('leaves out empty slices', () => {
    expect(sliceBatch(1, 2)).toEqual([{ start: 0, count: 1 }]);
  });

  it('rejects zero parts', () => {
    expect(() => sliceBatch(4, 0)).toThrow('parts passed to sliceBatch() must be a positive integer but got 0');
  });
});

describe('weightedMean', () => {
  it('weights each slice by its size', () => {
    // (3·[1, 2] + 1·[5, 6]) / 4 = [2, 3]
    const out = weightedMean([
      { values: [Float32Array.of(1, 2)], n: 3 },
      { values: [Float32Array.of(5, 6)], n: 1 },
    ]);
    expect([...out[0]]).toEqual([2, 3]);
  });

  it('rejects slices of different lengths', () => {
    expect(() => weightedMean([
      { values: [Float32Array.of(1, 2)], n: 1 },
      { values: [Float32Array.of(1)], n: 1 },
    ])).toThrow('tensor 0 has 1 and 2 values');
  });
});

describe('packBackbone', () => {
  it('round-trips tensors through one shared buffer', () => {
    const tensors = new Map([
      ['a', { shape: [2], data: Float32Array.of(1, 2) }],
      ['b', { shape: [1, 3], data: Float32Array.of(3, 4, 5) }],
    ]);
    const packed = packBackbone({ architecture: 'x' }, tensors);
    const back = unpackBackbone(packed);
    expect(packed.buffer.byteLength).toBe(20);
    expect([...(back.get('b')?.data ?? [])]).toEqual([3, 4, 5]);
    expect(back.get('b')?.shape).toEqual([1, 3]);
  });
});
