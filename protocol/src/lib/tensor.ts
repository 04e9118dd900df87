import { fromFloat16Bits, toFloat16Bits } from '@fedsnell/util';

export type WireDType = 'f32' | 'f16';

/** A tensor on the wire: row-major, raw little-endian element bytes (never base64 or JSON numbers). */
export interface WireTensor {
  name: string;
  shape: number[];
  dtype: WireDType;
  data: Uint8Array;
}

export const BYTES_PER_ELEMENT: Readonly<Record<WireDType, number>> = { f32: 4, f16: 2 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Packs float32 values as a wire tensor; the bytes are a copy, so later edits to `values` do not leak. */
export function encodeTensor(
  name: string,
  shape: readonly number[],
  values: Float32Array,
  dtype: WireDType = 'f32',
): WireTensor {
  const count = elementCount(shape);
  if (values.length !== count) {
    throw new Error(
      `values passed to encodeTensor() for ${name} must have ${count} elements (shape [${shape.join(',')}]) but got ${values.length}`,
    );
  }
  return { name, shape: [...shape], dtype, data: dtype === 'f32' ? packF32(values) : packF16(values) };
}

/** Float32 values of a wire tensor; throws if the byte length does not match shape and dtype. */
export function decodeTensor(tensor: WireTensor): Float32Array {
  const count = elementCount(tensor.shape);
  const expected = count * BYTES_PER_ELEMENT[tensor.dtype];
  if (tensor.data.byteLength !== expected) {
    throw new Error(
      `data passed to decodeTensor() for ${tensor.name} must be ${expected} bytes (${tensor.dtype} [${tensor.shape.join(',')}]) but got ${tensor.data.byteLength}`,
    );
  }
  return tensor.dtype === 'f32' ? unpackF32(tensor.data, count) : unpackF16(tensor.data, count);
}

function packF32(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function unpackF32(data: Uint8Array, count: number): Float32Array {
  // slice() gives a fresh, aligned buffer: wire bytes can sit at any offset
  if (LITTLE_ENDIAN) return new Float32Array(data.slice().buffer, 0, count);
  const out = new Float32Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function packF16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, toFloat16Bits(values[i]), true);
  return out;
}

function unpackF16(data: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < count; i++) out[i] = fromFloat16Bits(view.getUint16(i * 2, true));
  return out;
}
