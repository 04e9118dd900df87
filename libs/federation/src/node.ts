// Node-only parts of @fedsnell/federation: SNELL-exact's sparse updates in worker threads.
export type { WorkerSparseDeltaOptions } from './lib/node/worker-sparse-deltas';
export { workerSparseDeltas } from './lib/node/worker-sparse-deltas';
