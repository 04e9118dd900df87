import { Packr } from 'msgpackr';
import { TinyEmitter } from './emitter';
import { ErrorCode, type ProtocolError } from './errors';
import { DEFAULT_LIMITS } from './limits';
import { describeValue } from './describe';
import { errorMessage } from '@fedsnell/util';

/** socket.io packet types (socket.io-parser protocol 5). */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export interface Packet {
  type: PacketType;
  nsp: string;
  data?: unknown;
  id?: number;
}

/** Event names socket.io reserves; a peer must not be able to fire them. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

/** Name of the event the decoder synthesizes for a rejected packet. */
export const MALFORMED_EVENT = 'malformed';

// records off: every peer (browser, Node, other languages) reads plain msgpack maps;
// moreTypes: typed arrays travel as msgpack ext with their own bytes and arrive as typed arrays;
// copyBuffers: decoded bytes never pin the whole received frame.
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true, int64AsType: 'number' });

/** msgpack bytes of `value` with the wire's options (for chunked payloads and hashing). */
export function encodePayload(value: unknown): Uint8Array {
  return packr.pack(toWire(value));
}

/**
 * The value as the wire carries it: integers beyond 32 bits become BigInt so that msgpack encodes
 * them as int 64 rather than float 64 (a `deadline` in epoch ms is a `uint`), and keys whose
 * value is `undefined` are left out rather than sent as ext 0x00. Byte arrays pass through untouched.
 */
export function toWire(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000) ? BigInt(value) : value;
  }
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map(toWire);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = toWire(v);
  return out;
}

/** Inverse of encodePayload; throws on bytes that are not exactly one msgpack value. */
export function decodePayload(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

export interface ParserOptions {
  /** Frames larger than this are rejected before decoding. */
  maxPacketBytes?: number;
  /** Called for every rejected frame, e.g. to log and count. */
  onMalformed?: (error: ProtocolError) => void;
}

export interface SocketIoParser {
  Encoder: new () => PacketEncoder;
  Decoder: new () => PacketDecoder;
}

export class PacketEncoder {
  encode(packet: Packet): Uint8Array[] {
    const out: Packet = { type: packet.type, nsp: packet.nsp };
    if (packet.data !== undefined) out.data = toWire(packet.data);
    if (packet.id !== undefined) out.id = packet.id;
    return [packr.pack(out)];
  }
}

interface DecoderEvents {
  decoded: (packet: Packet) => void;
  error: (error: ProtocolError) => void;
}

/**
 * Decodes one msgpack frame into one packet. It never throws: socket.io turns a throw into a
 * force-closed connection that the application never hears about. A rejected frame instead becomes
 * a `malformed` event on the frame's namespace (or `/`), which the application can log, count and
 * answer; the bad frame itself is dropped. Before the socket has connected to that namespace,
 * socket.io closes the connection on such an event, which is right for garbage before a handshake.
 */
export class PacketDecoder extends TinyEmitter<DecoderEvents> {
  constructor(private readonly options: ParserOptions = {}) {
    super();
  }

  add(frame: unknown): void {
    const max = this.options.maxPacketBytes ?? DEFAULT_LIMITS.maxPacketBytes;
    const bytes = toBytes(frame);
    if (!bytes) return this.reject(ErrorCode.MALFORMED, `packet must be a binary msgpack frame but got ${describeValue(frame)}`);
    if (bytes.byteLength > max) {
      return this.reject(ErrorCode.PAYLOAD_TOO_LARGE, `packet must be at most ${max} bytes but got ${bytes.byteLength}`);
    }
    let value: unknown;
    try {
      value = packr.unpack(bytes);
    } catch (error) {
      return this.reject(ErrorCode.MALFORMED, `packet must be one msgpack value but decoding failed: ${errorMessage(error)}`);
    }
    const checked = checkPacket(value);
    if (typeof checked === 'string') return this.reject(ErrorCode.MALFORMED, checked, namespaceOf(value));
    this.emit('decoded', checked);
  }

  destroy(): void {
    this.off();
  }

  private reject(code: ErrorCode, message: string, nsp = '/'): void {
    const error: ProtocolError = { code, message };
    this.emit('error', error);
    this.options.onMalformed?.(error);
    this.emit('decoded', { type: PacketType.EVENT, nsp, data: [MALFORMED_EVENT, error] });
  }
}

/** A socket.io parser (`new Server({parser})`, `io(url, {parser})`) speaking msgpack. */
export function createParser(options: ParserOptions = {}): SocketIoParser {
  return {
    Encoder: PacketEncoder,
    Decoder: class extends PacketDecoder {
      constructor() {
        super(options);
      }
    },
  };
}

export const parser: SocketIoParser = createParser();

function toBytes(frame: unknown): Uint8Array | null {
  if (frame instanceof Uint8Array) return frame;
  if (frame instanceof ArrayBuffer) return new Uint8Array(frame);
  if (ArrayBuffer.isView(frame)) return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function namespaceOf(value: unknown): string {
  return isPlainObject(value) && isNamespace(value.nsp) ? value.nsp : '/';
}

function isNamespace(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/') && value.length <= 256;
}

const KNOWN_KEYS = new Set(['type', 'nsp', 'data', 'id']);

/** The packet, or a one-line reason it is not a valid socket.io packet. */
export function checkPacket(value: unknown): Packet | string {
  if (!isPlainObject(value)) return `packet must be a msgpack map but got ${describeValue(value)}`;
  const extra = Object.keys(value).filter((k) => !KNOWN_KEYS.has(k));
  if (extra.length) return `packet must only have keys type, nsp, data, id but got ${extra.join(', ')}`;
  const { type, nsp, data, id } = value;
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 6) {
    return `packet.type must be an integer from 0 to 6 but got ${describeValue(type)}`;
  }
  if (!isNamespace(nsp)) return `packet.nsp must be a namespace string starting with / but got ${describeValue(nsp)}`;
  if (id !== undefined && (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)) {
    return `packet.id must be a non-negative integer but got ${describeValue(id)}`;
  }
  const problem = checkData(type as PacketType, data);
  if (problem) return problem;
  return id === undefined ? { type: type as PacketType, nsp, data } : { type: type as PacketType, nsp, data, id };
}

function checkData(type: PacketType, data: unknown): string | null {
  switch (type) {
    case PacketType.CONNECT:
      return data === undefined || isPlainObject(data) ? null : `packet.data of CONNECT must be a map or absent but got ${describeValue(data)}`;
    case PacketType.DISCONNECT:
      return data === undefined ? null : `packet.data of DISCONNECT must be absent but got ${describeValue(data)}`;
    case PacketType.CONNECT_ERROR:
      return typeof data === 'string' || isPlainObject(data) ? null : `packet.data of CONNECT_ERROR must be a string or map but got ${describeValue(data)}`;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      if (!Array.isArray(data) || data.length === 0) return `packet.data of EVENT must be a non-empty array but got ${describeValue(data)}`;
      if (typeof data[0] !== 'string' || RESERVED_EVENTS.has(data[0])) {
        return `packet.data[0] of EVENT must be a non-reserved event name but got ${describeValue(data[0])}`;
      }
      return null;
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      return Array.isArray(data) ? null : `packet.data of ACK must be an array but got ${describeValue(data)}`;
  }
}
