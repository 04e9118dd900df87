export type { Rng } from './lib/rng';
export { mulberry32 } from './lib/rng';
export { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits } from './lib/float16';
export { sha256Hex } from './lib/sha256';
export { errorMessage } from './lib/error-message';
