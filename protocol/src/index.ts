export { ErrorCode, ERROR_CODES, protocolError, isErrorCode } from './lib/errors';
export type { ProtocolError, ParseResult } from './lib/errors';
export { DEFAULT_LIMITS, CHUNK_OVERHEAD_BYTES, resolveLimits } from './lib/limits';
export type { ProtocolLimits } from './lib/limits';
export { toFloat16Bits, fromFloat16Bits } from '@fedsnell/util';
export { encodeTensor, decodeTensor, elementCount, BYTES_PER_ELEMENT } from './lib/tensor';
export type { WireTensor, WireDType } from './lib/tensor';
export * from './lib/schemas';
export { PROTOCOL_VERSION, CLIENT_EVENTS, SERVER_EVENTS } from './lib/events';
export type { ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData, MalformedReport } from './lib/events';
export {
  createParser,
  parser,
  PacketEncoder,
  PacketDecoder,
  PacketType,
  MALFORMED_EVENT,
  checkPacket,
  encodePayload,
  decodePayload,
} from './lib/codec';
export type { Packet, ParserOptions, SocketIoParser } from './lib/codec';
export { sha256Hex } from '@fedsnell/util';
export { newTransferId, splitTransfer, sendTransfer, ChunkAssembler, ByteBudget } from './lib/chunking';
export type { AssemblerOptions, AssembleResult } from './lib/chunking';
export { describeValue } from './lib/describe';
export type { MonitorClient, MonitorClientState, MonitorRound, MonitorSnapshot } from './lib/monitor';
