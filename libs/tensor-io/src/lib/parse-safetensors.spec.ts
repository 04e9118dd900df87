import { craftSafetensors, littleEndianF32, littleEndianU16 } from './craft.testing';
import { SafetensorsError } from './errors';
import { parseSafetensors } from './parse-safetensors';

function f32Entry(shape: number[], begin: number, end: number): object {
  return { dtype: 'F32', shape, data_offsets: [begin, end] };
}

function errorOf(bytes: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) return error;
    throw error;
  }
  throw new Error('parseSafetensors() did not throw');
}

describe('parseSafetensors', () => {
  it('reads an F32 tensor', () => {
    const bytes = craftSafetensors({ w: f32Entry([2, 2], 0, 16) }, littleEndianF32([1, 2, 3, 4]));

    const { tensors } = parseSafetensors(bytes);

    expect(tensors.get('w')).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
  });

  it('reads F16 values', () => {
    const header = { h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } };
    const bytes = craftSafetensors(header, littleEndianU16([0x3c00, 0xc000, 0x0001]));

    const tensor = parseSafetensors(bytes).tensors.get('h');

    expect(tensor?.dtype).toBe('F16');
    expect(tensor?.data).toEqual(new Float32Array([1, -2, 2 ** -24]));
  });

  it('reads BF16 values', () => {
    const header = { b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } };
    const bytes = craftSafetensors(header, littleEndianU16([0x3f80, 0xc040]));

    expect(parseSafetensors(bytes).tensors.get('b')?.data).toEqual(new Float32Array([1, -3]));
  });

  it('reads F32 data at an unaligned offset', () => {
    // One trailing space moves the data start off a multiple of 4, so the parser must copy.
    const json = JSON.stringify({ w: f32Entry([2], 0, 8) }) + ' ';
    const bytes = craftSafetensors(json, littleEndianF32([0.5, -7]));
    expect((8 + json.length) % 4).not.toBe(0);

    expect(parseSafetensors(bytes).tensors.get('w')?.data).toEqual(new Float32Array([0.5, -7]));
  });

  it('reads F16 data at an odd offset', () => {
    const json = JSON.stringify({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } });
    const padded = json.length % 2 === 0 ? json + ' ' : json;
    const bytes = craftSafetensors(padded, littleEndianU16([0x3c00]));

    expect(parseSafetensors(bytes).tensors.get('h')?.data).toEqual(new Float32Array([1]));
  });

  it('reads from a view that does not start its buffer', () => {
    const inner = craftSafetensors({ w: f32Entry([1], 0, 4) }, littleEndianF32([9]));
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);

    expect(parseSafetensors(outer.subarray(3)).tensors.get('w')?.data).toEqual(new Float32Array([9]));
  });

  it('accepts trailing spaces after the header', () => {
    const bytes = craftSafetensors(JSON.stringify({ w: f32Entry([1], 0, 4) }) + '     ', littleEndianF32([3]));

    expect(parseSafetensors(bytes).tensors.get('w')?.data).toEqual(new Float32Array([3]));
  });

  it('accepts a zero-element tensor', () => {
    const bytes = craftSafetensors({ e: f32Entry([0, 3], 0, 0) });

    expect(parseSafetensors(bytes).tensors.get('e')).toEqual({ dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
  });

  it('returns tensors in data order', () => {
    const header = { second: f32Entry([1], 4, 8), first: f32Entry([1], 0, 4) };
    const bytes = craftSafetensors(header, littleEndianF32([1, 2]));

    expect([...parseSafetensors(bytes).tensors.keys()]).toEqual(['first', 'second']);
  });

  it('reads metadata', () => {
    const bytes = craftSafetensors({ __metadata__: { format: 'pt', note: 'x' } });

    expect(parseSafetensors(bytes).metadata).toEqual({ format: 'pt', note: 'x' });
  });

  it('keeps a "__proto__" metadata key as data', () => {
    const bytes = craftSafetensors('{"__metadata__": {"__proto__": "x"}}');

    const { metadata } = parseSafetensors(bytes);

    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
  });

  it('rejects a file shorter than 8 bytes', () => {
    expect(errorOf(new Uint8Array(5)).message).toBe(
      'parseSafetensors(): file has 5 bytes, shorter than the 8-byte header length',
    );
  });

  it('rejects a header length beyond the file', () => {
    const bytes = craftSafetensors('{}');
    new DataView(bytes.buffer).setUint32(0, 100, true);

    expect(errorOf(bytes).message).toBe(
      'parseSafetensors(): header length 100 goes beyond the file (2 bytes after the length)',
    );
  });

  it('rejects a header length past 2^53', () => {
    const bytes = craftSafetensors('{}');
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n, true);

    expect(errorOf(bytes).message).toMatch(/header length 9223372036854775808 goes beyond the file/);
  });

  it('rejects a header that is not JSON', () => {
    expect(errorOf(craftSafetensors('{"w": ')).message).toMatch(/^parseSafetensors\(\): header is not UTF-8 JSON \(/);
  });

  it('rejects a header that is not an object', () => {
    expect(errorOf(craftSafetensors('[1, 2]')).message).toBe(
      'parseSafetensors(): header must be a JSON object but got [1,2]',
    );
  });

  it('rejects an unsupported dtype by name', () => {
    const bytes = craftSafetensors({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));

    expect(errorOf(bytes).message).toBe(
      "parseSafetensors(): tensor 'ids' has unsupported dtype 'I64' (fedsnell reads F32, F16, BF16)",
    );
  });

  it('rejects F64 as unsupported', () => {
    const bytes = craftSafetensors({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));

    expect(errorOf(bytes).message).toMatch(/tensor 'd' has unsupported dtype 'F64'/);
  });

  it('rejects an unknown dtype', () => {
    const bytes = craftSafetensors({ q: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));

    expect(errorOf(bytes).message).toBe("parseSafetensors(): tensor 'q' has unknown dtype 'Q4'");
  });

  it.each([
    ['a negative entry', [2, -1]],
    ['a fractional entry', [1.5]],
    ['a number, not an array', 4],
    ['a string entry', ['2']],
  ])('rejects a shape with %s', (_label, shape) => {
    const bytes = craftSafetensors({ w: { dtype: 'F32', shape, data_offsets: [0, 8] } }, new Uint8Array(8));

    expect(errorOf(bytes).message).toBe(
      `parseSafetensors(): tensor 'w' has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`,
    );
  });

  it('rejects a byte count that does not match the shape', () => {
    const bytes = craftSafetensors({ w: f32Entry([2, 3], 0, 20) }, new Uint8Array(20));

    expect(errorOf(bytes).message).toBe("parseSafetensors(): tensor 'w' has 20 bytes but shape [2, 3] of F32 needs 24");
  });

  it('rejects offsets beyond the data buffer', () => {
    const bytes = craftSafetensors({ w: f32Entry([2], 0, 8) }, new Uint8Array(4));

    expect(errorOf(bytes).message).toBe(
      "parseSafetensors(): tensor 'w' has data_offsets [0, 8] beyond the data buffer of 4 bytes",
    );
  });

  it('rejects reversed offsets', () => {
    const bytes = craftSafetensors({ w: f32Entry([1], 8, 4) }, new Uint8Array(8));

    expect(errorOf(bytes).message).toBe("parseSafetensors(): tensor 'w' has reversed data_offsets [8, 4]");
  });

  it('rejects malformed offsets', () => {
    const bytes = craftSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4));

    expect(errorOf(bytes).message).toBe(
      "parseSafetensors(): tensor 'w' has data_offsets [0], expected [begin, end] of non-negative integers",
    );
  });

  it('rejects overlapping tensors', () => {
    const bytes = craftSafetensors({ a: f32Entry([2], 0, 8), b: f32Entry([2], 4, 12) }, new Uint8Array(12));

    expect(errorOf(bytes).message).toBe(
      "parseSafetensors(): tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]",
    );
  });

  it('rejects a tensor entry that is not an object', () => {
    expect(errorOf(craftSafetensors({ w: 3 })).message).toBe(
      "parseSafetensors(): tensor 'w' must be an object with dtype, shape, data_offsets but got 3",
    );
  });

  it('rejects a metadata value that is not a string', () => {
    const bytes = craftSafetensors({ __metadata__: { version: 1 } });

    expect(errorOf(bytes).message).toBe("parseSafetensors(): __metadata__ value 'version' must be a string but got 1");
  });

  it('rejects metadata that is not an object', () => {
    expect(errorOf(craftSafetensors({ __metadata__: 'x' })).message).toBe(
      'parseSafetensors(): __metadata__ must be an object of strings but got "x"',
    );
  });
});
