import { decodeTensor, encodeTensor, type WireDType, type WireTensor } from '@fedsnell/protocol';
import type { TensorMap } from '@fedsnell/tensor-io';

/** The round's global state as float32 tensors, in wire order. */
export function fromWire(tensors: readonly WireTensor[]): TensorMap {
  const out: TensorMap = new Map();
  for (const t of tensors) out.set(t.name, { shape: [...t.shape], data: decodeTensor(t) });
  return out;
}

/**
 * The update's tensors: exactly the names, order and shapes of the round's global state, taken from
 * the trained state. Whatever else the trainer holds is never put on the wire.
 */
export function toUpdateTensors(global: readonly WireTensor[], trained: TensorMap, dtype: WireDType): WireTensor[] {
  return global.map(({ name, shape }) => {
    const t = trained.get(name);
    if (!t) throw new Error(`toUpdateTensors(): the trained state has no tensor '${name}' of the global state`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`toUpdateTensors(): '${name}' must keep the global shape [${shape.join(',')}] but got [${t.shape.join(',')}]`);
    }
    return encodeTensor(name, shape, t.data, dtype);
  });
}
