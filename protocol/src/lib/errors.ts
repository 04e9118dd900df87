/**
 * Machine-readable error codes carried by acks and `error` events. Pinned: extend only by adding.
 */
export const ErrorCode = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  PROTOCOL_VERSION: 'PROTOCOL_VERSION',
  MALFORMED: 'MALFORMED',
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  NOT_JOINED: 'NOT_JOINED',
  WRONG_TASK: 'WRONG_TASK',
  WRONG_ROUND: 'WRONG_ROUND',
  STALE: 'STALE',
  DUPLICATE: 'DUPLICATE',
  LATE: 'LATE',
  TENSOR_NAME: 'TENSOR_NAME',
  TENSOR_SHAPE: 'TENSOR_SHAPE',
  TENSOR_DTYPE: 'TENSOR_DTYPE',
  NON_FINITE: 'NON_FINITE',
  NORM_BOUND: 'NORM_BOUND',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TRANSFER: 'TRANSFER',
  TRANSFER_TIMEOUT: 'TRANSFER_TIMEOUT',
  HASH_MISMATCH: 'HASH_MISMATCH',
  TOO_MANY_TRANSFERS: 'TOO_MANY_TRANSFERS',
  NOT_SELECTED: 'NOT_SELECTED',
  PAUSED: 'PAUSED',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL: 'INTERNAL',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

/** What crosses the wire when something is refused; `message` is for people, `code` for code. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function protocolError(code: ErrorCode, message: string): ProtocolError {
  return { code, message };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
