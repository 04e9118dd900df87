import type { TensorMap } from '@fedsnell/tensor-io';
import { globalTensor } from './tensor-ops';
import type { ClientUpdate } from './types';

export interface StaleFrames {
  /** The global state the update's own round started from. */
  startedFrom: TensorMap;
  /** The global state the open round started from. */
  current: TensorMap;
}

/**
 * An update trained for an older round, moved into the open round's frame (asynchronous FL, as
 * FedAsync/FedBuff): its change against the state its round started from is applied to the current
 * state, `current + (state − startedFrom)`, and its weight is discounted to
 * `numExamples · discount^staleness`. Pure: the inputs are not changed.
 */
export function reframeStaleUpdate(update: ClientUpdate, frames: StaleFrames, weight: { discount: number; staleness: number }): ClientUpdate {
  const where = 'reframeStaleUpdate()';
  if (!(weight.discount > 0 && weight.discount <= 1)) throw new Error(`discount passed to ${where} must be in (0, 1] but got ${weight.discount}`);
  if (!(Number.isSafeInteger(weight.staleness) && weight.staleness >= 1)) throw new Error(`staleness passed to ${where} must be an integer ≥ 1 but got ${weight.staleness}`);
  const state: TensorMap = new Map();
  for (const [name, tensor] of update.state) {
    const before = globalTensor(where, frames.startedFrom, name, tensor).data;
    const now = globalTensor(where, frames.current, name, tensor).data;
    state.set(name, { shape: [...tensor.shape], data: tensor.data.map((v, i) => now[i] + (v - before[i])) });
  }
  return { ...update, state, numExamples: update.numExamples * weight.discount ** weight.staleness };
}
