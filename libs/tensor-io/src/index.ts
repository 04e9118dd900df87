export type { NamedTensor, TensorMap, SafetensorsDType } from './lib/types';
export { sizeOf } from './lib/types';
