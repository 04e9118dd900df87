import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import {
  ByteBudget,
  createParser,
  encodePayload,
  ErrorCode,
  parseAuth,
  parseTask,
  PROTOCOL_VERSION,
  resolveLimits,
  splitTransfer,
  type Chunk,
  type ProtocolError,
  type RoundStart,
  type Task,
  type TaskFinished,
} from '@fedsnell/protocol';
import { adapterMetadata } from './adapter-metadata';
import type { AdminApi } from './admin-http';
import { loadBackbone } from './backbone';
import { defineMetrics } from './coordinator-metrics';
import { guard } from './guard';
import type { ClientSocket, CoordinatorServer } from './socket-types';
import { ClientRegistry } from './client-registry';
import { ClientSession, type SessionContext } from './client-session';
import { createHttpRouter } from './http-router';
import { IdentityRegistry, type Principal } from './identity';
import { peerLogger } from './logger';
import { backbonePaths } from './backbone-http';
import { CheckpointStore } from './checkpoints';
import { HistoryStore } from './history';
import { UpdateJournal } from './journal';
import { Metrics } from './metrics';
import { createMonitor, monitorSnellConfig } from './monitor';
import { createPages } from './pages-http';
import {
  DEFAULT_MAX_CONNECTIONS_PER_TOKEN,
  DEFAULT_MAX_EXAMPLES,
  resolveRounds,
  silentLogger,
  systemClock,
  type CoordinatorOptions,
  type Logger,
} from './options';
import { recoverState } from './recovery';
import { RoundLoop, type LoopState } from './round-loop';
import { nodeStateWriter } from './state-files';


interface EnginePacket {
  type: string;
  data?: unknown;
}
interface EngineSocketLike {
  on(event: 'packet' | 'packetCreate', listener: (packet: EnginePacket) => void): void;
}

function payloadBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export { SUPPORTED_VERSIONS } from './client-session';
const JOINED_ROOM = 'joined';

export type { ClientRecord } from './client-registry';

export interface CoordinatorStatus {
  state: LoopState;
  taskId: string;
  round: number | null;
  phase: 'idle' | 'training' | 'aggregating';
  protocolVersion: number;
  clients: { connected: number; joined: number };
  roundsCompleted: number;
  startedAt: number;
  uptimeSeconds: number;
  /** The summary sent to clients once the last round closed; null until then. */
  finished: TaskFinished | null;
}

export interface Coordinator {
  readonly port: number;
  readonly url: string;
  readonly metrics: Metrics;
  readonly task: Task;
  start(): CoordinatorStatus;
  pause(): CoordinatorStatus;
  status(): CoordinatorStatus;
  /** Resolves with the summary when the task ran its last round (never, if it is closed first). */
  readonly finished: Promise<TaskFinished>;
  close(): Promise<void>;
}

/**
 * The socket.io + HTTP coordinator: authenticates clients, negotiates the protocol version,
 * serves the backbone and the admin API, and drives the round loop. Every dependency with state
 * or effects (clock, rng, logger, strategy, evaluation, disk) is injected.
 */
export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const limits = resolveLimits(options.limits);
  const rounds = resolveRounds(options.rounds);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const deviceTokens = [...(options.clientTokens?.keys() ?? [])];
  if (options.tokens.client.length + deviceTokens.length === 0 || [...options.tokens.client, ...deviceTokens].some((t) => t.length === 0)) {
    throw new Error('tokens.client passed to createCoordinator() must be a non-empty list of non-empty tokens (or clientTokens must hold some)');
  }
  if (options.tokens.admin.length === 0 || options.tokens.client.includes(options.tokens.admin) || deviceTokens.includes(options.tokens.admin)) {
    throw new Error('tokens.admin passed to createCoordinator() must be non-empty and differ from every client token');
  }
  const backbone = await loadBackbone(options);
  const paths = backbonePaths(backbone.sha256);
  const task: Task = {
    ...options.task,
    // every task bounds the weight one client can carry
    data: { ...options.task.data, maxExamples: options.task.data.maxExamples ?? DEFAULT_MAX_EXAMPLES },
    backbone: {
      sha256: backbone.sha256,
      url: paths.weights,
      configUrl: paths.config,
      bytes: backbone.weightsSize,
      config: JSON.parse(options.backbone.configJson) as Record<string, unknown>,
    },
  };
  // a task that clients would refuse is an operator error: say so now, not at the first join
  const checkedTask = parseTask(task);
  if (!checkedTask.ok) throw new Error(`task passed to createCoordinator() is invalid: ${checkedTask.error.message}`);
  const metrics = defineMetrics();
  const clients = new ClientRegistry<ClientSocket>({
    maxConnectionsPerToken: options.maxConnectionsPerToken ?? DEFAULT_MAX_CONNECTIONS_PER_TOKEN,
    maxDepartedClients: options.maxDepartedClients ?? 1000,
  });
  const startedAt = clock.now();
  const identities = new IdentityRegistry({ sharedTokens: options.tokens.client, clientTokens: options.clientTokens, stateDir: options.stateDir });
  await identities.load();
  const principalOfSocket = new WeakMap<ClientSocket, Principal>();
  const chunkBudget = new ByteBudget(limits.maxBufferedBytes);
  let finishedSummary: TaskFinished | null = null;
  let resolveFinished!: (summary: TaskFinished) => void;
  const finished = new Promise<TaskFinished>((resolve) => (resolveFinished = resolve));

  const writer = options.stateWriter ?? nodeStateWriter;
  const checkpoints = new CheckpointStore(options.stateDir, (round, state) => adapterMetadata(task, options.strategy.name, round, state), logger, writer);
  // recoverState creates the folder, or refuses it in one line when it cannot be written
  const history = new HistoryStore(options.stateDir, writer);
  const journal = new UpdateJournal(options.stateDir, writer, logger);
  const resume = await recoverState({
    stateDir: options.stateDir,
    taskId: task.taskId,
    initialState: options.initialState,
    strategy: options.strategy,
    checkpoints,
    history,
    journal,
    logger,
  });

  const http = createServer((req, res) => handleHttp(req, res));
  const io: CoordinatorServer = new Server(http, {
    parser: createParser({ maxPacketBytes: limits.maxPacketBytes, onMalformed: () => metrics.inc('malformed_packets_total') }),
    transports: ['websocket'],
    maxHttpBufferSize: limits.maxPacketBytes,
    serveClient: false,
  });

  // wire volume, counted at the engine.io level: every socket.io message payload in and out
  io.engine.on('connection', (raw: EngineSocketLike) => {
    raw.on('packet', (packet) => {
      if (packet.type === 'message') metrics.inc('bytes_received_total', { channel: 'socket' }, payloadBytes(packet.data));
    });
    raw.on('packetCreate', (packet) => {
      if (packet.type === 'message') metrics.inc('bytes_sent_total', { channel: 'socket' }, payloadBytes(packet.data));
    });
  });

  let roundStartChunks: { round: number; chunks: Promise<Chunk[]> } | null = null;
  const loop: RoundLoop = new RoundLoop({
    taskId: task.taskId,
    dtype: task.updateDtype,
    limits,
    rounds,
    strategy: options.strategy,
    evaluate: options.evaluate,
    measureGaps: options.measureGaps,
    checkpoints,
    history,
    journal,
    clock,
    rng: options.rng,
    roundRng: options.roundRng,
    logger,
    resume,
    maxExamples: task.data.maxExamples,
    transport: {
      joinedClients: () => clients.sampleable(),
      isConnected: (id) => clients.isConnected(id),
      announce: (ids, start) => {
        metrics.set('round', start.round);
        for (const id of ids) {
          const socket = clients.connectionOf(id);
          if (socket) sendRoundStart(socket, start);
        }
      },
      finish: (end) => {
        io.to(JOINED_ROOM).emit('round:end', end);
      },
    },
    onFinished: (summary) => {
      finishedSummary = summary;
      logger.info('task finished', { taskId: summary.taskId, roundsCompleted: summary.roundsCompleted, lastRound: summary.lastRound, accuracy: summary.metrics.accuracy });
      io.to(JOINED_ROOM).emit('task:finished', summary);
      resolveFinished(summary);
    },
    onRoundClosed: (record) => {
      monitor.roundClosed(record.round);
      metrics.inc('rounds_completed_total');
      if (record.status === 'failed') metrics.inc('rounds_refused_total');
      metrics.set('round_duration_seconds', ((record.closedAt ?? record.startedAt) - record.startedAt) / 1000);
      if (record.metrics.accuracy !== undefined) metrics.set('eval_accuracy', record.metrics.accuracy);
      if (record.metrics.loss !== undefined) metrics.set('eval_loss', record.metrics.loss);
    },
  });

  const monitor = createMonitor({
    task,
    strategy: options.strategy.name,
    rounds,
    snell: monitorSnellConfig(task),
    metrics,
    clock,
    logger,
    state: () => ({ state: loop.loopState, phase: loop.phase, round: loop.currentRound }),
    history: () => history.list(),
    openRecord: () => loop.openRecord(),
    clients: () => clients.all(),
    globalState: () => loop.globalState,
  });
  const pages = createPages(logger);
  const sessionContext: SessionContext = {
    task,
    limits,
    loop,
    confirmIdentity: (id) => identities.confirm(id),
    monitor,
    metrics,
    clock,
    chunkBudget,
    finished: () => finishedSummary,
    onClientsChanged: () => updateClientGauges(),
  };

  const handshakeLog = peerLogger(logger, () => clock.now());
  io.use((socket, next) => {
    const raw: unknown = socket.handshake.auth;
    const refuse = (error: ProtocolError) => {
      metrics.inc('auth_failures_total');
      handshakeLog.warn('handshake refused', { code: error.code, reason: error.message, address: socket.handshake.address });
      next(Object.assign(new Error(error.message), { data: error }));
    };
    // no auth map, or one without a token, is a missing token: UNAUTHORIZED (PROTOCOL.md section 2)
    const hasToken = typeof raw === 'object' && raw !== null && 'token' in raw && (raw as { token: unknown }).token !== undefined;
    if (!hasToken) return refuse({ code: ErrorCode.UNAUTHORIZED, message: 'auth.token is missing: connect with auth = {token}' });
    const auth = parseAuth(raw);
    if (!auth.ok) return refuse(auth.error);
    const identity = identities.authenticate(auth.value.token, auth.value.clientId, clock.now());
    if (!identity.ok) return refuse(identity.error);
    const admitted = clients.admit(identity.principal, identity.clientId);
    if (!admitted.ok) {
      identities.release(identity.clientId);
      return refuse({ code: ErrorCode.TOO_MANY_CONNECTIONS, message: `this token already holds ${admitted.held} connections, at most ${admitted.max} allowed` });
    }
    principalOfSocket.set(socket, identity.principal);
    socket.data.clientId = identity.clientId;
    socket.data.joined = false;
    next();
  });

  io.on('connection', (socket) => setUpSocket(socket));

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const { staleUpdates, ...roundFields } = rounds;
  logger.info('coordinator listening', {
    port,
    taskId: task.taskId,
    backbone: backbone.sha256,
    ...roundFields,
    staleUpdates: staleUpdates ? `maxStaleness ${staleUpdates.maxStaleness}, discount ${staleUpdates.discount}` : 'refused',
    strategy: options.strategy.name,
  });
  if (options.autoStart) loop.start();

  function setUpSocket(socket: ClientSocket): void {
    const clientId = socket.data.clientId;
    const principal = principalOfSocket.get(socket) ?? '';
    // everything this peer can make the coordinator log is rate-limited, escaped and cut
    const log: Logger = peerLogger(logger, () => clock.now(), { clientId });
    const { record, replaced } = clients.connected(clientId, socket, clock.now());
    if (replaced) {
      log.warn('client id reconnected; dropping the older connection', { clientId });
      replaced.disconnect(true);
    }
    updateClientGauges();
    const session = new ClientSession(sessionContext, record, {
      joined: ({ protocolVersion, platform, backend }) => {
        Object.assign(socket.data, { joined: true, protocolVersion, platform, backend });
        void socket.join(JOINED_ROOM);
      },
      disconnectSoon: () => clock.setTimeout(() => socket.disconnect(true), 0),
      sendRoundStart: (start) => sendRoundStart(socket, start),
      sendFinished: (summary) => socket.emit('task:finished', summary),
      sendError: (error) => emitError(socket, error),
    }, log);

    guard(socket, 'join', (request, ack) => ack(session.join(request)));
    guard(socket, 'update', async (payload, ack) => ack(await session.update(payload)));
    guard(socket, 'ready', (payload, ack) => ack(session.ready(payload)));
    guard(socket, 'round:failed', (payload, ack) => ack(session.roundFailed(payload)));
    guard(socket, 'chunk', async (payload, ack) => ack(await session.chunk(payload)));
    guard(socket, 'progress', (payload) => session.progress(payload));
    guard(socket, 'malformed', (report) => session.malformed(report));
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const error = session.unknownEvent(event);
      if (!error) return;
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack({ ok: false, error });
      emitError(socket, error);
    });
    socket.on('disconnect', (reason) => {
      session.dispose();
      if (clients.disconnected(record, principal, socket, clock.now())) {
        if (record.joinedAt === null) identities.release(clientId);
        loop.clientLeft(clientId);
      }
      updateClientGauges();
      log.info('client disconnected', { clientId, reason });
    });
  }

  function emitError(socket: ClientSocket, error: ProtocolError): void {
    socket.emit('error', { code: error.code, message: error.message });
  }

  function sendRoundStart(socket: ClientSocket, start: RoundStart): void {
    const bytes = encodePayload(start);
    if (bytes.byteLength <= limits.maxMessageBytes) return void socket.emit('round:start', start);
    if (roundStartChunks?.round !== start.round) {
      roundStartChunks = { round: start.round, chunks: splitTransfer('round:start', bytes, { chunkBytes: limits.chunkBytes }) };
    }
    void (async () => {
      const chunks = await (roundStartChunks as { chunks: Promise<Chunk[]> }).chunks;
      for (const chunk of chunks) {
        const ack: unknown = await socket.timeout(limits.chunkTimeoutMs).emitWithAck('chunk', chunk);
        if (!(typeof ack === 'object' && ack !== null && 'ok' in ack && ack.ok === true)) {
          logger.warn('client refused a round:start chunk', { clientId: socket.data.clientId, round: start.round });
          return;
        }
      }
    })().catch((error: Error) => logger.warn('round:start transfer failed', { clientId: socket.data.clientId, reason: error.message }));
  }

  function updateClientGauges(): void {
    const counts = clients.counts();
    metrics.set('clients_connected', counts.connected);
    metrics.set('clients_joined', counts.joined);
  }

  function status(): CoordinatorStatus {
    return {
      state: loop.loopState,
      taskId: task.taskId,
      round: loop.currentRound,
      phase: loop.phase,
      protocolVersion: PROTOCOL_VERSION,
      clients: clients.counts(),
      roundsCompleted: history.list().length,
      startedAt,
      uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
      finished: finishedSummary,
    };
  }

  function start(): CoordinatorStatus {
    loop.start();
    return status();
  }

  function pause(): CoordinatorStatus {
    loop.pause();
    return status();
  }


  const admin: AdminApi = {
    adminToken: options.tokens.admin,
    status,
    rounds: () => ({ rounds: [...history.list(), ...(loop.openRecord() ? [loop.openRecord()] : [])] }),
    clients: () => ({ clients: clients.all() }),
    start,
    pause,
    adapter: async (round) => {
      // the adapter after round N is the checkpoint that round N+1 starts from
      const available = (await checkpoints.rounds()).filter((r) => r > 0);
      const target = round === undefined ? available[available.length - 1] : round + 1;
      if (target === undefined || !available.includes(target)) return null;
      const bytes = await checkpoints.bytes(target);
      return bytes ? { round: target - 1, bytes } : null;
    },
    metrics: () => metrics.render(),
    events: (req, res) => monitor.subscribe(req, res),
    onAuthFailure: () => metrics.inc('auth_failures_total'),
  };

  const handleHttp = createHttpRouter({
    backbone,
    backboneTokens: options.protectBackbone ? options.tokens.client : null,
    admin,
    pages,
    logger,
    onAuthFailure: () => metrics.inc('auth_failures_total'),
    onBackboneBytes: (bytes) => metrics.inc('bytes_sent_total', { channel: 'backbone' }, bytes),
  });

  return {
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    metrics,
    task,
    start,
    pause,
    status,
    finished,
    close: async () => {
      monitor.close();
      await loop.close();
      // a graceful disconnect first, so that what was already sent (round:end, task:finished) is flushed
      // rather than discarded; io.close() would drop the engine's write buffers
      io.disconnectSockets(true);
      for (let waited = 0; io.engine.clientsCount > 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      // io.close() also closes the http server; it resolves once both are down
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await identities.flush();
    },
  };
}

