import type { Task } from '@fedsnell/protocol';
import { ADAPTER_FORMAT, ADAPTER_VERSION, adaptedModules } from '@fedsnell/snell';

/**
 * `__metadata__.fedsnell` of a checkpoint, so that every checkpoint is also a valid adapter file.
 * `checkpointRound` is the round that starts from this state, so the adapter is the one after round
 * `checkpointRound − 1`: that completed round (0-based, as in the protocol, /api/rounds and
 * `fedsnell pull`) is the metadata's `round`, absent for the initial state.
 */
export function adapterMetadata(task: Task, strategy: string, checkpointRound: number, state: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const modules = adaptedModules(state.keys());
  const { kernel, p, scale, heads, rank, sparsity } = task.snell;
  return {
    format: ADAPTER_FORMAT,
    version: ADAPTER_VERSION,
    kernel,
    p,
    scale,
    heads,
    rank,
    sparsity,
    modules,
    backbone: task.backbone.sha256,
    classes: task.data.classes,
    ...(checkpointRound > 0 ? { round: checkpointRound - 1 } : {}),
    strategy,
  };
}
