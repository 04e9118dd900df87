/**
 * The currency of fedsnell outside tfjs: a named, row-major float32 tensor. Adapter files, wire
 * payloads, checkpoints and strategies all speak in these; tfjs tensors live only inside compute.
 */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Tensors by name, in insertion order (serialisers keep that order). */
export type TensorMap = Map<string, NamedTensor>;

/** Element storage types of a safetensors file that fedsnell reads (writes: F32, F16). */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
