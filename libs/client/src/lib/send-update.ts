import type { Socket } from 'socket.io-client';
import {
  encodePayload,
  ErrorCode,
  parseAck,
  sendTransfer,
  splitTransfer,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type Update,
  type WireLimits,
} from '@fedsnell/protocol';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SendResult {
  ack: Ack;
  /** msgpack size of the update */
  bytes: number;
  /** 0 when sent as one message */
  chunks: number;
}

/**
 * Sends one update and waits for its ack: as one `update` event when its encoding fits
 * `limits.maxMessageBytes`, else as a chunked transfer (PROTOCOL.md §7), each chunk awaiting its
 * ack. Rejects when an ack does not come within `ackTimeoutMs` or the socket drops meanwhile.
 */
export async function sendUpdate(socket: ClientSocket, update: Update, limits: WireLimits, ackTimeoutMs: number): Promise<SendResult> {
  const payload = encodePayload(update);
  if (payload.byteLength > limits.maxUpdateBytes) {
    const error = { code: ErrorCode.PAYLOAD_TOO_LARGE, message: `update of round ${update.round} is ${payload.byteLength} bytes but the server accepts at most ${limits.maxUpdateBytes}` };
    return { ack: { ok: false, error }, bytes: payload.byteLength, chunks: 0 };
  }
  if (payload.byteLength <= limits.maxMessageBytes) {
    const ack = checked(await socket.timeout(ackTimeoutMs).emitWithAck('update', update));
    // a server with a lower frame limit than it announced may still take the update in pieces (§5 step 4)
    if (ack.ok || ack.error.code !== ErrorCode.PAYLOAD_TOO_LARGE) return { ack, bytes: payload.byteLength, chunks: 0 };
  }
  const chunks = await splitTransfer('update', payload, { chunkBytes: limits.chunkBytes });
  const ack = await sendTransfer(chunks, async (chunk) => checked(await socket.timeout(ackTimeoutMs).emitWithAck('chunk', chunk)));
  return { ack, bytes: payload.byteLength, chunks: chunks.length };
}

/** An ack that is not a protocol Ack counts as a refusal, never as acceptance. */
function checked(value: unknown): Ack {
  const parsed = parseAck(value);
  return parsed.ok ? parsed.value : { ok: false, error: { code: ErrorCode.MALFORMED, message: `the server's ack is not an Ack: ${parsed.error.message}` } };
}
