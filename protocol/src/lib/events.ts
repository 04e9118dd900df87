import type { ProtocolError } from './errors';
import type {
  Ack,
  Chunk,
  ErrorEvent,
  JoinAck,
  JoinRequest,
  Progress,
  Ready,
  RoundEnd,
  RoundFailed,
  RoundStart,
  Task,
  TaskFinished,
  Update,
} from './schemas';

/** Version of this wire contract; a server announces the versions it speaks in a PROTOCOL_VERSION refusal. */
export const PROTOCOL_VERSION = 1;

/** Synthesized locally by the codec's decoder for a packet it rejected; never sent on purpose. */
export type MalformedReport = ProtocolError;

/** Events a client emits; the server's `Server<ClientToServerEvents, ServerToClientEvents, …>`. */
export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (answer: JoinAck) => void) => void;
  update: (update: Update, ack: (answer: Ack) => void) => void;
  progress: (progress: Progress) => void;
  /** Backbone verified and data present: the client may be sampled (also a `join` field). */
  ready: (ready: Ready, ack: (answer: Ack) => void) => void;
  /** A selected client cannot deliver an update this round; the coordinator stops waiting for it. */
  'round:failed': (failed: RoundFailed, ack: (answer: Ack) => void) => void;
  /** One piece of an `update` too large for one message; the last chunk's ack is the update's ack. */
  chunk: (chunk: Chunk, ack: (answer: Ack) => void) => void;
  malformed: (report: MalformedReport) => void;
}

/** Events a server emits; a client is `Socket<ServerToClientEvents, ClientToServerEvents>`. */
export interface ServerToClientEvents {
  task: (task: Task) => void;
  'round:start': (start: RoundStart) => void;
  'round:end': (end: RoundEnd) => void;
  /** The task ran all its rounds; nothing more will be asked of the client. */
  'task:finished': (finished: TaskFinished) => void;
  error: (error: ErrorEvent) => void;
  /** One piece of a `round:start` too large for one message. */
  chunk: (chunk: Chunk, ack: (answer: Ack) => void) => void;
  malformed: (report: MalformedReport) => void;
}

/** One coordinator process: no events between servers. */
export type InterServerEvents = Record<never, never>;

/** What the server keeps on each socket (`socket.data`). */
export interface SocketData {
  clientId: string;
  joined: boolean;
  protocolVersion?: number;
  backend?: string;
  platform?: 'node' | 'browser';
}

export const CLIENT_EVENTS: readonly (keyof ClientToServerEvents)[] = [
  'join',
  'update',
  'progress',
  'ready',
  'round:failed',
  'chunk',
  'malformed',
];
export const SERVER_EVENTS: readonly (keyof ServerToClientEvents)[] = [
  'task',
  'round:start',
  'round:end',
  'task:finished',
  'error',
  'chunk',
  'malformed',
];
