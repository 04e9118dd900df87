// A minimal coordinator for client specs: speaks the protocol over real socket.io and HTTP on
// 127.0.0.1, serves one backbone, announces one round per join, and records every packet a client
// sends (the wire recorder) so that specs can prove what leaves the client.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import {
  ChunkAssembler,
  createParser,
  decodePayload,
  DEFAULT_LIMITS,
  encodePayload,
  splitTransfer,
  parseJoin,
  parseReady,
  parseRoundFailed,
  parseUpdate,
  type Ack,
  type ClientToServerEvents,
  type InterServerEvents,
  type JoinAck,
  type JoinRequest,
  type Progress,
  type Ready,
  type RoundFailed,
  type TaskFinished,
  type RoundStart,
  type ServerToClientEvents,
  type SocketData,
  type Task,
  type Update,
  type WireLimits,
} from '@fedsnell/protocol';
import { serveBytes } from './serve-bytes';

type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface FakeCoordinatorOptions {
  token: string;
  task: Task;
  /** bytes served at task.backbone.url */
  backbone: Uint8Array;
  limits?: WireLimits;
  /** answer every join with this refusal instead */
  refuseJoin?: JoinAck;
  /** round announced after every join while this client has no accepted update for it */
  round?: () => RoundStart;
  /** send round:start just before the join ack (frames can overtake an ack's continuation) */
  startBeforeAck?: boolean;
  /** send round:start as a chunked transfer of this many bytes per chunk */
  roundStartChunkBytes?: number;
  /** answer this many backbone requests with 503 before serving it */
  backboneFailures?: number;
  /** what to do with the n-th update (0-based): ack it, or drop the connection without an ack */
  onUpdate?: (update: Update, n: number) => 'ack' | 'drop';
  /** send task:finished right after each join ack instead of a round */
  finished?: TaskFinished;
}

export interface RecordedPacket {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

export class FakeCoordinator {
  /** every socket.io packet clients sent, decoded, in order */
  readonly packets: RecordedPacket[] = [];
  readonly joins: { auth: unknown; request: JoinRequest }[] = [];
  readonly updates: Update[] = [];
  readonly progress: Progress[] = [];
  readonly ready: Ready[] = [];
  readonly failures: RoundFailed[] = [];
  readonly httpRequests: { path: string; range?: string }[] = [];
  /** engine connections opened (handshakes attempted, refused or not) */
  connections = 0;
  private readonly accepted = new Set<string>();
  private readonly io: Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
  private readonly http: HttpServer;
  private readonly limits: WireLimits;
  private backboneFailures: number;
  url = '';

  constructor(private readonly options: FakeCoordinatorOptions) {
    const { maxMessageBytes, chunkBytes, maxUpdateBytes, maxTensors, chunkTimeoutMs } = DEFAULT_LIMITS;
    this.backboneFailures = options.backboneFailures ?? 0;
    this.limits = options.limits ?? { maxMessageBytes, chunkBytes, maxUpdateBytes, maxTensors, chunkTimeoutMs };
    this.http = createServer((req, res) => {
      this.httpRequests.push({ path: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
      if (req.url === options.task.backbone.url && this.backboneFailures-- <= 0) return serveBytes(options.backbone, req, res);
      if (req.url === options.task.backbone.url) res.writeHead(503);
      else res.writeHead(404);
      res.end();
    });
    this.io = new Server(this.http, { parser: createParser(), transports: ['websocket'] });
    this.io.engine.on('connection', (raw: { on(event: 'packet', fn: (p: { type: string; data?: unknown }) => void): void }) => {
      this.connections++;
      raw.on('packet', (p) => {
        if (p.type === 'message' && p.data instanceof Uint8Array) this.packets.push(decodePayload(p.data) as RecordedPacket);
      });
    });
    this.io.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown; clientId?: unknown };
      if (auth.token !== options.token) {
        const error = new Error('bad client token') as Error & { data?: unknown };
        error.data = { code: 'UNAUTHORIZED', message: 'bad client token' };
        return next(error);
      }
      socket.data.clientId = typeof auth.clientId === 'string' ? auth.clientId : `c-${this.connections}`;
      next();
    });
    this.io.on('connection', (socket) => this.serve(socket));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  /** Cuts every connection as a network failure would (the client sees a transport close). */
  dropAll(): void {
    for (const socket of this.io.sockets.sockets.values()) socket.conn.close();
  }

  /** Sends a new task to every joined client now. */
  sendTask(task: Task): void {
    this.io.to('joined').emit('task', task);
  }

  /** Sends a round:start to every joined client now. */
  announce(start: RoundStart): void {
    this.io.to('joined').emit('round:start', start);
  }

  /** acks of the round:start chunks a client answered */
  readonly chunkAcks: Ack[] = [];

  private async sendStart(socket: ServerSocket, start: RoundStart): Promise<void> {
    const chunkBytes = this.options.roundStartChunkBytes;
    if (!chunkBytes) return void socket.emit('round:start', start);
    for (const chunk of await splitTransfer('round:start', encodePayload(start), { chunkBytes })) {
      const ack = await socket.timeout(5000).emitWithAck('chunk', chunk);
      this.chunkAcks.push(ack);
      if (!ack.ok) return;
    }
  }

  private serve(socket: ServerSocket): void {
    const assembler = new ChunkAssembler({
      maxTotalBytes: this.limits.maxUpdateBytes,
      maxChunkBytes: this.limits.chunkBytes,
      maxConcurrentTransfers: 4,
      timeoutMs: this.limits.chunkTimeoutMs,
    });
    socket.on('disconnect', () => assembler.dispose());
    socket.on('join', (request, ack) => {
      const parsed = parseJoin(request);
      if (!parsed.ok) return ack({ ok: false, error: parsed.error });
      this.joins.push({ auth: socket.handshake.auth, request: parsed.value });
      if (this.options.refuseJoin) return ack(this.options.refuseJoin);
      const start = this.options.round?.();
      void socket.join('joined');
      if (start && this.options.startBeforeAck) socket.emit('round:start', start);
      ack({ ok: true, protocolVersion: 1, clientId: socket.data.clientId, task: this.options.task, limits: this.limits, currentRound: start?.round ?? null });
      if (parsed.value.ready) this.ready.push(parsed.value.ready);
      const finished = this.options.finished;
      if (finished) return void setTimeout(() => socket.emit('task:finished', finished), 0);
      if (start && !this.options.startBeforeAck && !this.accepted.has(`${socket.data.clientId}#${start.round}`)) setTimeout(() => void this.sendStart(socket, start), 0);
    });
    const onUpdate = (payload: unknown, ack: (a: Ack) => void) => {
      const parsed = parseUpdate(payload);
      if (!parsed.ok) return ack({ ok: false, error: parsed.error });
      const n = this.updates.length;
      this.updates.push(parsed.value);
      if ((this.options.onUpdate?.(parsed.value, n) ?? 'ack') === 'drop') return void socket.conn.close();
      const key = `${socket.data.clientId}#${parsed.value.round}`;
      if (this.accepted.has(key)) return ack({ ok: false, error: { code: 'DUPLICATE', message: `round ${parsed.value.round} already has this client's update` } });
      this.accepted.add(key);
      ack({ ok: true });
    };
    socket.on('update', onUpdate);
    socket.on('chunk', async (chunk, ack) => {
      const result = await assembler.add(chunk);
      if (!result.ok) return ack({ ok: false, error: result.error });
      if (!result.done) return ack({ ok: true });
      onUpdate(decodePayload(result.bytes), ack);
    });
    socket.on('progress', (p) => this.progress.push(p));
    socket.on('ready', (payload, ack) => {
      const parsed = parseReady(payload);
      if (!parsed.ok) return ack({ ok: false, error: parsed.error });
      this.ready.push(parsed.value);
      ack({ ok: true });
    });
    socket.on('round:failed', (payload, ack) => {
      const parsed = parseRoundFailed(payload);
      if (!parsed.ok) return ack({ ok: false, error: parsed.error });
      this.failures.push(parsed.value);
      ack({ ok: true });
    });
  }
}

/** Polls until `get` returns a value (specs wait on the client's effects, never on a fixed sleep alone). */
export function waitFor<T>(get: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const value = get();
      if (value !== undefined && value !== false) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`waitFor() gave up after ${timeoutMs} ms`));
      setTimeout(poll, 10);
    };
    poll();
  });
}
