import { BYTES_PER_ELEMENT, decodeTensor, elementCount, ErrorCode, type ParseResult, type ProtocolLimits, type Update, type WireDType } from '@fedsnell/protocol';
import type { TensorMap } from '@fedsnell/tensor-io';
import { updateNorm } from './norm-clipping';
import type { ClientUpdate } from './types';

/** What one client's update is checked against: the round's global state and the task's bounds. */
export interface UpdateExpectations {
  clientId: string;
  /** The state the client started from: the update must have exactly its names and shapes. */
  global: TensorMap;
  dtype: WireDType;
  limits: Pick<ProtocolLimits, 'maxTensors' | 'maxUpdateBytes'>;
  /** ‖update − global‖ ≤ this */
  maxUpdateNorm?: number;
  /** ‖update − global‖ ≤ this · max(‖global‖, 1) */
  maxRelativeUpdateNorm?: number;
  /** Most `numExamples` one update may carry */
  maxExamples?: number;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;

/**
 * The one check of a client's update before it may be aggregated, in the order PROTOCOL.md lists
 * them: example count, tensor count and bytes, names, shapes, dtype, finite values, norm bounds. The
 * first failure is returned with the protocol's error code and a one-line message; nothing is kept.
 * On success the tensors are decoded to float32 as the strategies take them.
 */
export function validateUpdate(update: Update, expect: UpdateExpectations): ParseResult<ClientUpdate> {
  const who = `client ${expect.clientId}`;
  const fail = (code: ErrorCode, message: string): ParseResult<ClientUpdate> => ({ ok: false, error: { code, message: `${who} ${message}; update dropped` } });
  const { tensors } = update;
  if (!Number.isSafeInteger(update.numExamples) || update.numExamples <= 0) {
    return fail(ErrorCode.MALFORMED, `sent numExamples ${update.numExamples}, expected a positive integer`);
  }
  if (expect.maxExamples !== undefined && update.numExamples > expect.maxExamples) {
    return fail(ErrorCode.MALFORMED, `sent numExamples ${update.numExamples}, at most task.data.maxExamples (${expect.maxExamples}) allowed`);
  }
  if (tensors.length > expect.limits.maxTensors) {
    return fail(ErrorCode.PAYLOAD_TOO_LARGE, `sent ${tensors.length} tensors, at most ${expect.limits.maxTensors} allowed`);
  }
  const bytes = tensors.reduce((sum, t) => sum + t.data.byteLength, 0);
  if (bytes > expect.limits.maxUpdateBytes) {
    return fail(ErrorCode.PAYLOAD_TOO_LARGE, `sent ${bytes} tensor bytes, at most ${expect.limits.maxUpdateBytes} allowed`);
  }
  const sent = new Set<string>();
  for (const t of tensors) {
    if (sent.has(t.name)) return fail(ErrorCode.TENSOR_NAME, `sent ${t.name} twice`);
    sent.add(t.name);
  }
  for (const name of expect.global.keys()) if (!sent.has(name)) return fail(ErrorCode.TENSOR_NAME, `did not send ${name}`);
  const wanted: { shape: readonly number[] }[] = [];
  for (const t of tensors) {
    const want = expect.global.get(t.name);
    if (!want) return fail(ErrorCode.TENSOR_NAME, `sent unexpected tensor ${t.name}`);
    wanted.push(want);
  }
  for (const [i, t] of tensors.entries()) {
    const want = wanted[i].shape;
    if (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k])) {
      return fail(ErrorCode.TENSOR_SHAPE, `sent ${t.name} with shape ${shapeText(t.shape)}, expected ${shapeText(want)}`);
    }
  }
  for (const t of tensors) {
    if (t.dtype !== expect.dtype) return fail(ErrorCode.TENSOR_DTYPE, `sent ${t.name} as ${t.dtype}, expected ${expect.dtype}`);
  }
  const state: TensorMap = new Map();
  for (const t of tensors) {
    const needed = elementCount(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    if (t.data.byteLength !== needed) {
      return fail(ErrorCode.TENSOR_SHAPE, `sent ${t.name} with ${t.data.byteLength} bytes, ${t.dtype} ${shapeText(t.shape)} needs ${needed}`);
    }
    const data = decodeTensor(t);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return fail(ErrorCode.NON_FINITE, `sent ${t.name} with ${data[i]} at index ${i}`);
    }
    state.set(t.name, { shape: [...t.shape], data });
  }
  const clientUpdate: ClientUpdate = { clientId: expect.clientId, numExamples: update.numExamples, state, metrics: { ...update.metrics } };
  if (expect.maxUpdateNorm !== undefined || expect.maxRelativeUpdateNorm !== undefined) {
    const norm = updateNorm(clientUpdate, expect.global);
    if (expect.maxUpdateNorm !== undefined && !(norm <= expect.maxUpdateNorm)) {
      return fail(ErrorCode.NORM_BOUND, `sent an update of L2 norm ${norm.toPrecision(4)}, at most ${expect.maxUpdateNorm} allowed`);
    }
    if (expect.maxRelativeUpdateNorm !== undefined) {
      const bound = expect.maxRelativeUpdateNorm * Math.max(stateNorm(expect.global), 1);
      if (!(norm <= bound)) {
        return fail(ErrorCode.NORM_BOUND, `sent an update of L2 norm ${norm.toPrecision(4)}, at most ${bound.toPrecision(4)} (${expect.maxRelativeUpdateNorm} × the global state's norm) allowed`);
      }
    }
  }
  return { ok: true, value: clientUpdate };
}

/** L2 norm of a whole state, accumulated in float64. */
function stateNorm(state: TensorMap): number {
  let sum = 0;
  for (const t of state.values()) for (let i = 0; i < t.data.length; i++) sum += t.data[i] * t.data[i];
  return Math.sqrt(sum);
}
