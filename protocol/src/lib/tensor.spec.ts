import { decodeTensor, encodeTensor } from './tensor';

describe('wire tensors', () => {
  it('packs f32 as little-endian bytes', () => {
    const t = encodeTensor('w', [1], new Float32Array([1]));
    expect(Array.from(t.data)).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('round trips f32 exactly', () => {
    const values = new Float32Array([1.5, -2.25, 3e-8, 7]);
    expect(decodeTensor(encodeTensor('w', [2, 2], values))).toEqual(values);
  });

  it('packs f16 at two bytes per element', () => {
    const t = encodeTensor('w', [2], new Float32Array([1, -2]), 'f16');
    expect(Array.from(t.data)).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect(decodeTensor(t)).toEqual(new Float32Array([1, -2]));
  });

  it('copies only the view of a larger buffer', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const t = encodeTensor('w', [2], big.subarray(1, 3));
    expect(t.data.byteLength).toBe(8);
    expect(decodeTensor(t)).toEqual(new Float32Array([1, 2]));
  });

  it('decodes bytes at an unaligned offset', () => {
    const bytes = new Uint8Array(5);
    bytes.set(encodeTensor('w', [1], new Float32Array([3])).data, 1);
    expect(decodeTensor({ name: 'w', shape: [1], dtype: 'f32', data: bytes.subarray(1) })).toEqual(new Float32Array([3]));
  });

  it('rejects a value count that does not match the shape', () => {
    expect(() => encodeTensor('w', [2, 2], new Float32Array(3))).toThrow(
      'values passed to encodeTensor() for w must have 4 elements (shape [2,2]) but got 3',
    );
  });

  it('rejects a byte length that does not match the shape', () => {
    expect(() => decodeTensor({ name: 'w', shape: [2], dtype: 'f32', data: new Uint8Array(4) })).toThrow(
      'must be 8 bytes (f32 [2]) but got 4',
    );
  });
});
