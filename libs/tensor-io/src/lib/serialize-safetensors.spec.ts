import { SafetensorsError } from './errors';
import { parseSafetensors } from './parse-safetensors';
import { serializeSafetensors } from './serialize-safetensors';
import { NamedTensor, TensorMap } from './types';

function tensor(shape: number[], values: number[]): NamedTensor {
  return { shape, data: new Float32Array(values) };
}

function headerText(bytes: Uint8Array): string {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + length));
}

describe('serializeSafetensors', () => {
  it('writes the layout the Rust implementation writes', () => {
    const bytes = serializeSafetensors({ a: tensor([2], [1, 2]) });

    // 54 bytes of JSON + 2 spaces → data starts at 64; offsets contiguous from 0.
    expect(headerText(bytes)).toBe('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ');
    expect([...bytes.subarray(0, 8)]).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect([...bytes.subarray(64)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  });

  it('starts the data buffer at a multiple of 8', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = serializeSafetensors({ [name]: tensor([1], [1]) });
      expect((8 + headerText(bytes).length) % 8).toBe(0);
    }
  });

  it('round-trips F32 tensors in insertion order', () => {
    const input: TensorMap = new Map([
      ['z', tensor([2, 1], [0.1, -3e-8])],
      ['a', tensor([3], [Infinity, -0, 7])],
    ]);

    const { tensors } = parseSafetensors(serializeSafetensors(input));

    expect([...tensors.keys()]).toEqual(['z', 'a']);
    expect(tensors.get('z')).toEqual({ dtype: 'F32', shape: [2, 1], data: new Float32Array([0.1, -3e-8]) });
    expect(tensors.get('a')?.data).toEqual(new Float32Array([Infinity, -0, 7]));
  });

  it('writes F16 when asked', () => {
    const bytes = serializeSafetensors({ h: tensor([3], [1, -2, 65520]) }, { dtype: 'F16' });

    const parsed = parseSafetensors(bytes).tensors.get('h');

    expect(parsed?.dtype).toBe('F16');
    expect(parsed?.data).toEqual(new Float32Array([1, -2, Infinity]));
    expect(bytes.length - 8 - headerText(bytes).length).toBe(6);
  });

  it('rounds to the nearest half when writing F16', () => {
    const bytes = serializeSafetensors({ h: tensor([1], [0.1]) }, { dtype: 'F16' });

    expect(parseSafetensors(bytes).tensors.get('h')?.data[0]).toBe(0.0999755859375);
  });

  it('round-trips metadata', () => {
    const metadata = { fedsnell: JSON.stringify({ format: 'fedsnell-adapter', version: 1 }), note: 'é ✓' };

    const bytes = serializeSafetensors({ w: tensor([1], [1]) }, { metadata });

    expect(parseSafetensors(bytes).metadata).toEqual(metadata);
    expect(headerText(bytes).startsWith('{"__metadata__":')).toBe(true);
  });

  it('writes a zero-element tensor', () => {
    const { tensors } = parseSafetensors(serializeSafetensors({ e: tensor([0, 4], []) }));

    expect(tensors.get('e')).toEqual({ dtype: 'F32', shape: [0, 4], data: new Float32Array(0) });
  });

  it('writes only the view of a subarray', () => {
    const backing = new Float32Array([9, 1, 2, 9]);

    const bytes = serializeSafetensors({ w: { shape: [2], data: backing.subarray(1, 3) } });

    expect(parseSafetensors(bytes).tensors.get('w')?.data).toEqual(new Float32Array([1, 2]));
  });

  it('rejects data that does not match the shape', () => {
    expect(() => serializeSafetensors({ w: tensor([2, 2], [1, 2, 3]) })).toThrow(
      new SafetensorsError('serializeSafetensors()', "tensor 'w' has 3 values but shape [2, 2] needs 4"),
    );
  });

  it('rejects the reserved name __metadata__', () => {
    expect(() => serializeSafetensors(new Map([['__metadata__', tensor([1], [1])]]))).toThrow(
      'serializeSafetensors(): tensor name "__metadata__" is reserved or empty',
    );
  });

  it('rejects an empty name', () => {
    expect(() => serializeSafetensors({ '': tensor([1], [1]) })).toThrow('tensor name "" is reserved or empty');
  });

  it('rejects a negative dimension', () => {
    expect(() => serializeSafetensors({ w: tensor([-1], []) })).toThrow(
      "serializeSafetensors(): tensor 'w' has shape [-1], expected an array of non-negative integers",
    );
  });

  it('rejects data that is not a Float32Array', () => {
    const bad: NamedTensor = JSON.parse('{"shape": [1], "data": [1]}');

    expect(() => serializeSafetensors({ w: bad })).toThrow(
      "serializeSafetensors(): tensor 'w' data must be a Float32Array but got [object Array]",
    );
  });

  it('rejects a metadata value that is not a string', () => {
    const metadata: Record<string, string> = JSON.parse('{"round": 3}');

    expect(() => serializeSafetensors({}, { metadata })).toThrow(
      "serializeSafetensors(): metadata value 'round' must be a string but got 3",
    );
  });
});
