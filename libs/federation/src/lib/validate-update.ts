import { sizeOf } from '@fedsnell/tensor-io';
import type { ClientUpdate } from './types';

/** Codes match the wire protocol's error codes, so the coordinator can forward them as they are. */
export type UpdateErrorCode = 'TENSOR_NAME' | 'TENSOR_SHAPE' | 'NON_FINITE' | 'MALFORMED';

/** A client reply that must not be aggregated; the message says what was expected and what happens. */
export class UpdateValidationError extends Error {
  override readonly name = 'UpdateValidationError';
  constructor(
    readonly code: UpdateErrorCode,
    readonly clientId: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(message);
  }
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Checks a reply against the tensors the round expects: same names (none missing, none extra), same
 * shapes, finite values, a positive integer example count. Returns the first problem found, or null.
 */
export function validateUpdate(
  update: ClientUpdate,
  expected: ReadonlyMap<string, { shape: readonly number[] }>,
): UpdateValidationError | null {
  const id = update.clientId;
  const fail = (code: UpdateErrorCode, what: string, tensor?: string) =>
    new UpdateValidationError(code, id, `client ${id} ${what}; reply dropped`, tensor);

  if (!Number.isSafeInteger(update.numExamples) || update.numExamples <= 0) {
    return fail('MALFORMED', `sent numExamples ${update.numExamples}, expected a positive integer`);
  }
  for (const name of expected.keys()) {
    if (!update.state.has(name)) return fail('TENSOR_NAME', `did not send ${name}`, name);
  }
  for (const [name, tensor] of update.state) {
    const want = expected.get(name);
    if (!want) return fail('TENSOR_NAME', `sent unexpected tensor ${name}`, name);
    const same = tensor.shape.length === want.shape.length && tensor.shape.every((d, i) => d === want.shape[i]);
    if (!same) {
      return fail(
        'TENSOR_SHAPE',
        `sent ${name} with shape ${shapeText(tensor.shape)}, expected ${shapeText(want.shape)}`,
        name,
      );
    }
    if (tensor.data.length !== sizeOf(want.shape)) {
      return fail(
        'TENSOR_SHAPE',
        `sent ${name} with ${tensor.data.length} values, shape ${shapeText(want.shape)} needs ${sizeOf(want.shape)}`,
        name,
      );
    }
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return fail('NON_FINITE', `sent ${name} with ${data[i]} at index ${i}`, name);
    }
  }
  return null;
}
