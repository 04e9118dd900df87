export type { NamedTensor, TensorMap, SafetensorsDType } from './lib/types';
export { sizeOf } from './lib/types';
export { SafetensorsError } from './lib/errors';
export { parseSafetensors } from './lib/parse-safetensors';
export type { ParsedSafetensors, ParsedTensor } from './lib/parse-safetensors';
export { serializeSafetensors } from './lib/serialize-safetensors';
export type { SerializeOptions } from './lib/serialize-safetensors';
export { float32ToFloat16Bits, float16BitsToFloat32, bfloat16BitsToFloat32, sha256Hex } from '@fedsnell/util';
