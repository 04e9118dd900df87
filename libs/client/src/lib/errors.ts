import type { RoundFailureReason } from '@fedsnell/protocol';

/**
 * What went wrong, as a machine-readable code: callers (shells, CLIs, pages, tests) branch on it, never on
 * the message text.
 */
export type ClientErrorCode =
  /** options a client cannot start with (bad server URL, workers on a backend that has none) */
  | 'OPTIONS'
  /** the server refused the connection or the join for good (bad token, malformed handshake) */
  | 'REFUSED'
  /** the server speaks no protocol version this client speaks */
  | 'PROTOCOL_VERSION'
  /** the server answered with something that is not the protocol */
  | 'BAD_ANSWER'
  /** no server answered within the time the client was told to wait */
  | 'UNREACHABLE'
  /** the backbone download failed on the way (worth a retry: each resumes where the last stopped) */
  | 'BACKBONE_DOWNLOAD'
  /** the downloaded backbone does not hash to the task's sha256 */
  | 'BACKBONE_HASH'
  /** the task declares a backbone larger than this client accepts */
  | 'BACKBONE_TOO_LARGE'
  /** the local data cannot serve the task (missing class folders, too few usable images) */
  | 'DATA'
  /** the task asks for settings this client cannot run */
  | 'TASK_CONFIG'
  /** a round's training failed */
  | 'TRAINING';

/** An error of the client core: a one-line `message`, a `code`, and whether trying again can help. */
export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** true when the same step may succeed if tried again (a network failure) */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** A backbone fetch that failed on the way: a retry resumes it. */
export class BackboneDownloadError extends ClientError {
  constructor(message: string) {
    super('BACKBONE_DOWNLOAD', message, true);
    this.name = 'BackboneDownloadError';
  }
}

/** Downloaded bytes that do not hash to the task's sha256: final, the bytes are deleted. */
export class BackboneHashError extends ClientError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('BACKBONE_HASH', `${url} must have sha256 ${expected} but the download hashes to ${actual}; the file was deleted`);
    this.name = 'BackboneHashError';
  }
}

/** A task whose backbone is larger than the client accepts (`maxBackboneBytes`): final, nothing is downloaded. */
export class BackboneTooLargeError extends ClientError {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
    message = `the task's backbone is ${bytes} bytes but this client accepts at most ${maxBytes} (raise the limit to take it)`,
  ) {
    super('BACKBONE_TOO_LARGE', message);
    this.name = 'BackboneTooLargeError';
  }
}

/** Local data that cannot serve the task. */
export class DataError extends ClientError {
  constructor(message: string) {
    super('DATA', message);
    this.name = 'DataError';
  }
}

/** Task settings this client cannot run. */
export class TaskConfigError extends ClientError {
  constructor(message: string) {
    super('TASK_CONFIG', message);
    this.name = 'TaskConfigError';
  }
}

/** The one-line message of anything thrown. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? '';
}

/** Whether a failed step may be tried again: only errors that say so, never a final refusal. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof ClientError) || error.retryable;
}

/** The `round:failed` reason (PROTOCOL.md §5) for why a round could not be trained. */
export function failureReasonOf(error: unknown): RoundFailureReason {
  if (!(error instanceof ClientError)) return 'TRAINING';
  switch (error.code) {
    case 'DATA':
      return 'DATA';
    case 'BACKBONE_DOWNLOAD':
    case 'BACKBONE_HASH':
    case 'BACKBONE_TOO_LARGE':
      return 'BACKBONE';
    case 'TRAINING':
      return 'TRAINING';
    default:
      return 'INTERNAL';
  }
}
