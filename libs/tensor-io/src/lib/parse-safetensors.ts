import { SafetensorsError } from './errors';
import { HOST_IS_LITTLE_ENDIAN, ITEM_SIZE, KNOWN_DTYPES, isSupportedDType } from './dtypes';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from '@fedsnell/util';
import { NamedTensor, SafetensorsDType, sizeOf } from './types';

export interface ParsedTensor extends NamedTensor {
  dtype: SafetensorsDType;
}

export interface ParsedSafetensors {
  /** In file order (by data offset). */
  tensors: Map<string, ParsedTensor>;
  metadata: Record<string, string>;
}

const WHERE = 'parseSafetensors()';

function fail(detail: string): never {
  throw new SafetensorsError(WHERE, detail);
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function readHeaderEntry(name: string, raw: unknown, dataLength: number): HeaderEntry {
  if (!isPlainObject(raw)) fail(`tensor '${name}' must be an object with dtype, shape, data_offsets but got ${show(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(`tensor '${name}' has dtype ${show(dtype)}, expected a string`);
  if (!isSupportedDType(dtype)) {
    fail(
      KNOWN_DTYPES.has(dtype)
        ? `tensor '${name}' has unsupported dtype '${dtype}' (fedsnell reads F32, F16, BF16)`
        : `tensor '${name}' has unknown dtype '${dtype}'`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    fail(`tensor '${name}' has shape ${show(shape)}, expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    fail(`tensor '${name}' has data_offsets ${show(offsets)}, expected [begin, end] of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor '${name}' has reversed data_offsets [${begin}, ${end}]`);
  if (end > dataLength) {
    fail(`tensor '${name}' has data_offsets [${begin}, ${end}] beyond the data buffer of ${dataLength} bytes`);
  }
  const expected = sizeOf(shape) * ITEM_SIZE[dtype];
  if (end - begin !== expected) {
    fail(
      `tensor '${name}' has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${expected}`,
    );
  }
  return { name, dtype, shape: [...shape], begin, end };
}

function readMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) fail(`__metadata__ must be an object of strings but got ${show(raw)}`);
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') fail(`__metadata__ value '${key}' must be a string but got ${show(value)}`);
    entries.push([key, value]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays data.
  return Object.fromEntries(entries);
}

function decode(entry: HeaderEntry, bytes: Uint8Array, dataStart: number): Float32Array {
  const offset = bytes.byteOffset + dataStart + entry.begin;
  const length = (entry.end - entry.begin) / ITEM_SIZE[entry.dtype];
  const itemSize = ITEM_SIZE[entry.dtype];
  // Views share the caller's buffer (a backbone is hundreds of MB); copy only when misaligned.
  const aligned = HOST_IS_LITTLE_ENDIAN && offset % itemSize === 0;
  if (entry.dtype === 'F32') {
    if (aligned) return new Float32Array(bytes.buffer, offset, length);
    const view = new DataView(bytes.buffer, offset, length * 4);
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  let halves: Uint16Array;
  if (aligned) {
    halves = new Uint16Array(bytes.buffer, offset, length);
  } else {
    const view = new DataView(bytes.buffer, offset, length * 2);
    halves = new Uint16Array(length);
    for (let i = 0; i < length; i++) halves[i] = view.getUint16(i * 2, true);
  }
  return entry.dtype === 'F16' ? float16BitsToFloat32(halves) : bfloat16BitsToFloat32(halves);
}

/**
 * Reads a safetensors blob: u64 LE header length N, N bytes of JSON header, then the data buffer.
 * F32 tensors at aligned offsets are views into `bytes` (no copy); F16/BF16 are widened to float32.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.length < 8) fail(`file has ${bytes.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`header length ${headerLength} goes beyond the file (${bytes.length - 8} bytes after the length)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    fail(`header is not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isPlainObject(header)) fail(`header must be a JSON object but got ${show(header)}`);

  const dataLength = bytes.length - dataStart;
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') metadata = readMetadata(raw);
    else entries.push(readHeaderEntry(name, raw, dataLength));
  }

  // Stable sort keeps header order among zero-byte tensors that share an offset.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    if (entry.begin === entry.end) continue;
    if (previous && entry.begin < previous.end) {
      fail(
        `tensor '${entry.name}' data_offsets [${entry.begin}, ${entry.end}] overlap ` +
          `tensor '${previous.name}' [${previous.begin}, ${previous.end}]`,
      );
    }
    previous = entry;
  }

  const tensors = new Map<string, ParsedTensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data: decode(entry, bytes, dataStart) });
  }
  return { tensors, metadata };
}
