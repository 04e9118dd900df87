/**
 * Explicit limits of the wire. Defaults keep every single socket.io message under socket.io's
 * default `maxHttpBufferSize` (1e6 bytes): a larger client→server message drops the connection and
 * loses the message, so anything bigger travels as a chunked transfer.
 */
export interface ProtocolLimits {
  /** Largest encoded payload sent as one message; larger payloads are chunked. */
  maxMessageBytes: number;
  /** Bytes of payload per chunk of a chunked transfer. */
  chunkBytes: number;
  /** Largest packet the decoder accepts (after this, it reports MALFORMED without decoding). */
  maxPacketBytes: number;
  /** Largest reassembled payload (an update or a round's global state). */
  maxUpdateBytes: number;
  /** Most tensors in one update or round:start. */
  maxTensors: number;
  /** Highest tensor rank. */
  maxRank: number;
  /** Longest tensor name, in characters. */
  maxNameLength: number;
  /** Chunked transfers in flight at once per connection. */
  maxConcurrentTransfers: number;
  /** A transfer whose next chunk does not arrive within this is dropped. */
  chunkTimeoutMs: number;
  /** Payload bytes held by unfinished transfers of one connection, all together. */
  maxConnectionBufferBytes: number;
  /** Payload bytes held by unfinished transfers of every connection of a server, all together. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMessageBytes: 900_000,
  chunkBytes: 768 * 1024,
  maxPacketBytes: 1_000_000,
  maxUpdateBytes: 64 * 1024 * 1024,
  maxTensors: 4096,
  maxRank: 8,
  maxNameLength: 256,
  maxConcurrentTransfers: 4,
  chunkTimeoutMs: 20_000,
  maxConnectionBufferBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
});

/** Room for a chunk's own fields and the packet envelope around its bytes. */
export const CHUNK_OVERHEAD_BYTES = 4096;

/** Defaults overridden by `overrides`; throws naming the first limit that is out of range. */
export function resolveLimits(overrides: Partial<ProtocolLimits> = {}): ProtocolLimits {
  const limits: ProtocolLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`limits.${key} passed to resolveLimits() must be a positive integer but got ${value}`);
    }
  }
  if (limits.chunkBytes + CHUNK_OVERHEAD_BYTES > limits.maxMessageBytes) {
    throw new Error(
      `limits.chunkBytes passed to resolveLimits() must be at most maxMessageBytes - ${CHUNK_OVERHEAD_BYTES} ` +
        `(${limits.maxMessageBytes - CHUNK_OVERHEAD_BYTES}) but got ${limits.chunkBytes}`,
    );
  }
  if (limits.maxMessageBytes > limits.maxPacketBytes) {
    throw new Error(
      `limits.maxMessageBytes passed to resolveLimits() must be at most maxPacketBytes (${limits.maxPacketBytes}) ` +
        `but got ${limits.maxMessageBytes}`,
    );
  }
  return limits;
}
