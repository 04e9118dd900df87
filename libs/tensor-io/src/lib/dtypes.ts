import type { SafetensorsDType } from './types';

/** Bytes per element of the dtypes fedsnell reads. */
export const ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = { F32: 4, F16: 2, BF16: 2 };

/** Every dtype the safetensors format defines; used to tell "unsupported" from "unknown". */
export const KNOWN_DTYPES: ReadonlySet<string> = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64',
]);

export function isSupportedDType(value: string): value is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(ITEM_SIZE, value);
}

/** True on every platform fedsnell targets; checked so typed-array views are never silently wrong. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
