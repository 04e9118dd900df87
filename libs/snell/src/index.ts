export { plainMatMul } from './lib/matmul';
export type { SnellConfig, SnellMode, SnellConfigSummary } from './lib/config';
export { DEFAULT_SNELL_CONFIG, resolveSnellConfig, describeSnellConfig, snellDefaultsFor } from './lib/config';
export { createRng } from './lib/rng';
export type { SnellFactors } from './lib/init';
export { initSnellFactors } from './lib/init';
export { mergeKernel } from './lib/merge-kernel';
export { exactQuantile, absQuantile, absQuantile64 } from './lib/quantile';
export type { SparsifyResult } from './lib/sparsify';
export { sparsify } from './lib/sparsify';
export type { CompetitionThreshold } from './lib/threshold';
export { competitionThreshold, floorToFloat32 } from './lib/threshold';
export type { SnellMatMulOptions } from './lib/adapter';
export { snellMatMul, sparseDelta, snellThreshold } from './lib/adapter';
export type { SparseDeltaResult } from './lib/compute-sparse-delta';
export { computeSparseDelta, SparseDeltaBuffers } from './lib/compute-sparse-delta';
export { computeSparseDeltaTf } from './lib/compute-sparse-delta-tf';
export type { AdapterFile } from './lib/adapter-file';
export {
  encodeAdapter,
  decodeAdapter,
  validateAdapter,
  AdapterFormatError,
  ADAPTER_FORMAT,
  ADAPTER_VERSION,
} from './lib/adapter-file';
export { adaptedModules, DENSE_TRAINABLES, FACTOR_SUFFIXES, factorNames, isDenseTrainable, isFactorName, parseFactorName } from './lib/adapter-names';
