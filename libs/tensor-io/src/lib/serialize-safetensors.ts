import { SafetensorsError } from './errors';
import { HOST_IS_LITTLE_ENDIAN } from './dtypes';
import { float32ToFloat16Bits } from '@fedsnell/util';
import { NamedTensor, TensorMap, sizeOf } from './types';

export interface SerializeOptions {
  /** Written as `__metadata__`; values must be strings (the format allows nothing else). */
  metadata?: Record<string, string>;
  /** Storage type of every tensor; F16 halves the size (round-to-nearest-even). Default F32. */
  dtype?: 'F32' | 'F16';
}

const WHERE = 'serializeSafetensors()';

function fail(detail: string): never {
  throw new SafetensorsError(WHERE, detail);
}

function entriesOf(tensors: TensorMap | Record<string, NamedTensor>): [string, NamedTensor][] {
  // toString rather than instanceof: a Map made in another realm (jest, iframes) is still a Map.
  if (Object.prototype.toString.call(tensors) === '[object Map]') return [...(tensors as TensorMap).entries()];
  return Object.entries(tensors as Record<string, NamedTensor>);
}

function validate(name: string, tensor: NamedTensor): void {
  if (name === '' || name === '__metadata__') fail(`tensor name ${JSON.stringify(name)} is reserved or empty`);
  const { shape, data } = tensor;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`);
  }
  if (Object.prototype.toString.call(data) !== '[object Float32Array]') {
    fail(`tensor '${name}' data must be a Float32Array but got ${Object.prototype.toString.call(data)}`);
  }
  if (data.length !== sizeOf(shape)) {
    fail(`tensor '${name}' has ${data.length} values but shape [${shape.join(', ')}] needs ${sizeOf(shape)}`);
  }
}

function littleEndianBytes(data: Float32Array, dtype: 'F32' | 'F16'): Uint8Array {
  if (dtype === 'F16') {
    const halves = float32ToFloat16Bits(data);
    if (!HOST_IS_LITTLE_ENDIAN) for (let i = 0; i < halves.length; i++) halves[i] = (halves[i] >>> 8) | ((halves[i] & 0xff) << 8);
    return new Uint8Array(halves.buffer);
  }
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/**
 * Writes tensors (in insertion order) as a safetensors blob that the official library reads:
 * `__metadata__` first, data offsets contiguous from 0, header padded with spaces so the data
 * buffer starts at a multiple of 8 bytes, as the Rust implementation does.
 */
export function serializeSafetensors(
  tensors: TensorMap | Record<string, NamedTensor>,
  options: SerializeOptions = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16') fail(`options.dtype must be 'F32' or 'F16' but got ${JSON.stringify(dtype)}`);
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) {
    for (const [key, value] of Object.entries(options.metadata)) {
      if (typeof value !== 'string') fail(`metadata value '${key}' must be a string but got ${JSON.stringify(value)}`);
    }
    header['__metadata__'] = options.metadata;
  }

  const entries = entriesOf(tensors);
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entries) {
    validate(name, tensor);
    const blob = littleEndianBytes(tensor.data, dtype);
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let position = 8 + padded;
  for (const blob of blobs) {
    out.set(blob, position);
    position += blob.length;
  }
  return out;
}
