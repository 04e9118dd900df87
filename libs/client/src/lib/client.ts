import { io } from 'socket.io-client';
import {
  ChunkAssembler,
  createParser,
  decodePayload,
  DEFAULT_LIMITS,
  ErrorCode,
  parseAck,
  parseErrorEvent,
  parseJoinAck,
  parseRoundEnd,
  parseRoundStart,
  parseTask,
  parseTaskFinished,
  PROTOCOL_VERSION,
  type JoinRequest,
  type Ready,
  type RoundStart,
  type Task,
  type TaskFinished,
  type WireLimits,
} from '@fedsnell/protocol';
import { reconnectDelay, resolveReconnect, type ReconnectOptions } from './backoff';
import { ClientError, failureReasonOf, messageOf } from './errors';
import { SILENT_LOGGER, type ClientEvent, type ClientLogger } from './events';
import { prepareTask, type PreparedTask } from './prepare-task';
import { RoundJobs, type RoundJob } from './round-jobs';
import type { ClientShell, LocalData } from './seams';
import { sendUpdate, type ClientSocket } from './send-update';
import { backboneRequestOf, checkServerUrl, socketAddress } from './server-url';
import { fromWire, toUpdateTensors } from './wire-state';

export interface ClientOptions {
  /** coordinator base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  /** client token */
  token: string;
  /** id to ask for; the server's answer is kept and reused on every reconnect */
  clientId?: string;
  logger?: ClientLogger;
  reconnect?: Partial<ReconnectOptions>;
  /** aborting it stops the client like stop() */
  signal?: AbortSignal;
  onEvent?: (event: ClientEvent) => void;
  /** stop after this many accepted updates (0 or absent: run until stopped or the task finishes) */
  maxRounds?: number;
  /**
   * Until the first join, give up after this long without reaching the coordinator (`UNREACHABLE`).
   * Infinity: keep trying (a client started before its coordinator). Default 60 s. After a join the
   * client reconnects for as long as it runs: a coordinator restart resumes its rounds.
   */
  serverTimeoutMs?: number;
  /** largest backbone the client accepts (`BACKBONE_TOO_LARGE` above it); default 2 GiB */
  maxBackboneBytes?: number;
  /** wait for a join ack this long before reconnecting (PROTOCOL.md §4: 30 s) */
  joinTimeoutMs?: number;
  /** wait for an update (or chunk, ready, round:failed) ack this long */
  ackTimeoutMs?: number;
  /** at most one `progress` message per this many ms (the protocol allows one per second) */
  progressIntervalMs?: number;
  /** jitter source for back-off */
  random?: () => number;
}

/** One round this client took part in, as the result reports it. */
export interface RoundReport {
  round: number;
  /**
   * 'accepted' (ok or DUPLICATE), 'refused' (the ack's code in `code`), 'skipped' (not sent: deadline,
   * new task, stop), 'failed' (training failed; the server was told with `round:failed`)
   */
  outcome: 'accepted' | 'refused' | 'skipped' | 'failed';
  code?: string;
  reason?: string;
  numExamples?: number;
  loss?: number;
  accuracy?: number;
  seconds?: number;
}

export interface ClientResult {
  clientId: string | undefined;
  taskId: string | undefined;
  backend: string | undefined;
  rounds: RoundReport[];
  /** why the client stopped */
  reason: string;
  /** the server's `task:finished`, when that is why it stopped */
  finished?: TaskFinished;
}

export interface Client {
  /** Connects and serves rounds; resolves after stop()/maxRounds/signal/task:finished, rejects with a `ClientError` on a fatal error. */
  start(): Promise<ClientResult>;
  /** Aborts any training, disconnects, releases the model; resolves once everything has stopped. */
  stop(reason?: string): Promise<void>;
  readonly clientId: string | undefined;
}

/** Attempts at fetching a backbone before the client gives up. */
const DOWNLOAD_ATTEMPTS = 5;
/** 2 GiB: ViT-L in float32 is 1.2 GB. */
export const DEFAULT_MAX_BACKBONE_BYTES = 2 * 1024 ** 3;
export const DEFAULT_SERVER_TIMEOUT_MS = 60_000;
/** how long a stopping client waits for the server to count its `round:failed` */
const FAILURE_NOTICE_MS = 2000;

const FATAL_HANDSHAKE = new Set<string>([ErrorCode.UNAUTHORIZED, ErrorCode.MALFORMED]);

/**
 * A federated client (PROTOCOL.md §12, step by step, with reconnection and resume) over a platform's
 * backbone cache, data source and training backend.
 */
export function createClient<D extends LocalData>(options: ClientOptions, shell: ClientShell<D>): Client {
  return new FederatedClient(options, shell);
}

class FederatedClient<D extends LocalData> implements Client {
  private readonly reconnect: ReconnectOptions;
  private readonly logger: ClientLogger;
  private readonly serverUrl: string;
  private readonly joinTimeoutMs: number;
  private readonly ackTimeoutMs: number;
  private readonly progressIntervalMs: number;
  private readonly serverTimeoutMs: number;
  private readonly maxBackboneBytes: number;
  private readonly random: () => number;

  private started = false;
  private stopping = false;
  /** a fatal error is being reported: rounds failing because of it are not reported again */
  private failing = false;
  private backend: string | undefined;
  private socket: ClientSocket | undefined;
  private assembler: ChunkAssembler | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private unreachableTimer: ReturnType<typeof setTimeout> | undefined;
  private everJoined = false;
  private lastProblem = 'no answer yet';
  private id: string | undefined;
  private task: Task | undefined;
  private prepared: Promise<PreparedTask<D>> | undefined;
  /** set once the current task is prepared: sent as `ready` and in every later join */
  private ready: Ready | undefined;
  private limits: WireLimits = { ...DEFAULT_LIMITS };
  private accepted = 0;
  private finished: TaskFinished | undefined;
  private readonly jobs = new RoundJobs();
  private readonly reports: RoundReport[] = [];
  // the socket whose join has been answered, and round:starts that overtook that answer: several
  // frames decoded in one read fire their events before the join ack's promise continues
  private joinedOn: ClientSocket | undefined;
  private early: unknown[] = [];
  private settle: { resolve: (r: ClientResult) => void; reject: (e: Error) => void } | undefined;
  private stopped: Promise<void> | undefined;
  // aborted on shutdown: cuts a backbone download short
  private readonly life = new AbortController();

  constructor(
    private readonly options: ClientOptions,
    private readonly shell: ClientShell<D>,
  ) {
    this.reconnect = resolveReconnect(options.reconnect);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
    this.random = options.random ?? Math.random;
    this.serverUrl = checkServerUrl(options.server);
    this.id = options.clientId;
    this.serverTimeoutMs = options.serverTimeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    if (!(this.serverTimeoutMs > 0)) throw new ClientError('OPTIONS', `serverTimeoutMs passed to createClient() must be a positive number of ms (Infinity: wait forever) but got ${this.serverTimeoutMs}`);
    this.maxBackboneBytes = options.maxBackboneBytes ?? DEFAULT_MAX_BACKBONE_BYTES;
    if (!(this.maxBackboneBytes > 0)) throw new ClientError('OPTIONS', `maxBackboneBytes passed to createClient() must be a positive number but got ${this.maxBackboneBytes}`);
  }

  get clientId(): string | undefined {
    return this.id;
  }

  private emit(event: ClientEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      this.logger.warn('onEvent listener threw', { reason: messageOf(error) });
    }
  }

  // ---- connection

  private connect(): void {
    if (this.stopping) return;
    const { origin, path } = socketAddress(this.serverUrl);
    const s: ClientSocket = io(origin, {
      path,
      transports: ['websocket'],
      parser: createParser(),
      forceNew: true,
      reconnection: false,
      timeout: this.joinTimeoutMs,
      auth: this.id ? { token: this.options.token, clientId: this.id } : { token: this.options.token },
    });
    this.socket = s;
    this.joinedOn = undefined;
    this.early = [];
    this.assembler?.dispose();
    // the server's own chunk size is known only after the join ack: accept up to one whole frame
    const chunks = new ChunkAssembler({
      maxTotalBytes: Math.max(this.limits.maxUpdateBytes, DEFAULT_LIMITS.maxUpdateBytes),
      maxChunkBytes: DEFAULT_LIMITS.maxPacketBytes,
      maxConcurrentTransfers: DEFAULT_LIMITS.maxConcurrentTransfers,
      timeoutMs: this.limits.chunkTimeoutMs,
    });
    this.assembler = chunks;
    s.on('connect', () => {
      this.emit({ type: 'connected', server: this.serverUrl });
      this.logger.info('connected', { server: this.serverUrl });
      void this.join(s);
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      const code = errorCodeOf(err.data);
      if (code && FATAL_HANDSHAKE.has(code)) {
        // a refused token stays refused: retrying would only hammer the server (PROTOCOL.md §2)
        return this.fail(new ClientError('REFUSED', `server ${this.serverUrl} refused the connection (${code}): ${err.message}`));
      }
      this.retry(s, `cannot connect: ${err.message}`);
    });
    s.on('disconnect', (reason) => {
      if (this.stopping || s !== this.socket) return;
      this.emit({ type: 'disconnected', reason });
      this.logger.warn('disconnected', { reason });
      this.retry(s, `disconnected: ${reason}`);
    });
    s.on('task', (payload) => {
      const parsed = parseTask(payload);
      if (!parsed.ok) return this.logger.warn('ignored a malformed task', { reason: parsed.error.message });
      this.adoptTask(parsed.value);
    });
    s.on('round:start', (payload) => this.onRoundStart(payload));
    s.on('chunk', (chunk, ack) => {
      void chunks.add(chunk).then(
        (result) => {
          if (!result.ok) return ack({ ok: false, error: result.error });
          if (result.done) {
            if (result.event !== 'round:start') {
              return ack({ ok: false, error: { code: ErrorCode.TRANSFER, message: `a client only takes round:start transfers but got ${result.event}` } });
            }
            this.onRoundStart(safeDecode(result.bytes));
          }
          ack({ ok: true });
        },
        (error: Error) => ack({ ok: false, error: { code: ErrorCode.INTERNAL, message: error.message } }),
      );
    });
    s.on('round:end', (payload) => {
      const parsed = parseRoundEnd(payload);
      if (!parsed.ok) return this.logger.warn('ignored a malformed round:end', { reason: parsed.error.message });
      this.emit({ type: 'round:end', end: parsed.value });
      this.logger.info('round ended', { round: parsed.value.round, status: parsed.value.status, updates: parsed.value.updates });
    });
    s.on('task:finished', (payload) => this.onTaskFinished(payload));
    s.on('error', (payload) => {
      const parsed = parseErrorEvent(payload);
      const error = parsed.ok ? parsed.value : { code: ErrorCode.INTERNAL, message: 'the server sent an error event of an unknown shape' };
      this.emit({ type: 'server:error', error });
      this.logger.warn('server error', { code: error.code, message: error.message });
    });
    s.on('malformed', (problem) => this.logger.warn('dropped a malformed packet from the server', { code: problem.code, reason: problem.message }));
  }

  private retry(s: ClientSocket, reason: string): void {
    if (this.stopping || s !== this.socket || this.reconnectTimer) return;
    this.lastProblem = reason;
    s.removeAllListeners();
    s.disconnect();
    const delayMs = reconnectDelay(this.attempt, this.reconnect, this.random);
    this.attempt++;
    this.emit({ type: 'reconnecting', attempt: this.attempt, delayMs, reason });
    this.logger.info('reconnecting', { attempt: this.attempt, delayMs, reason });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delayMs);
  }

  private async join(s: ClientSocket): Promise<void> {
    const { task, ready } = this;
    const request: JoinRequest = {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { backend: this.backend ?? 'cpu', platform: this.shell.platform, userAgent: this.shell.userAgent, dtypes: ['f32', 'f16'] },
      ...(task && this.jobs.lastRound !== undefined ? { resume: { taskId: task.taskId, lastRound: this.jobs.lastRound } } : {}),
      ...(ready && task?.taskId === ready.taskId ? { ready } : {}),
    };
    let answer: unknown;
    try {
      answer = await s.timeout(this.joinTimeoutMs).emitWithAck('join', request);
    } catch (error) {
      return this.retry(s, `join was not answered: ${messageOf(error)}`);
    }
    if (s !== this.socket || this.stopping) return;
    const parsed = parseJoinAck(answer);
    if (!parsed.ok) return this.fail(new ClientError('BAD_ANSWER', `server ${this.serverUrl} answered join with something that is not a JoinAck: ${parsed.error.message}`));
    const ack = parsed.value;
    if (!ack.ok) {
      if (ack.error.code === ErrorCode.PROTOCOL_VERSION) {
        const versions = ack.supportedVersions?.join(', ') ?? 'unknown';
        return this.fail(new ClientError('PROTOCOL_VERSION', `server ${this.serverUrl} speaks protocol version(s) ${versions} but this client speaks ${PROTOCOL_VERSION}: ${ack.error.message}`));
      }
      return this.fail(new ClientError('REFUSED', `server ${this.serverUrl} refused join (${ack.error.code}): ${ack.error.message}`));
    }
    // back-off restarts only after a join succeeds, so a server that accepts sockets but never answers is not hammered
    this.attempt = 0;
    this.everJoined = true;
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = undefined;
    this.id = ack.clientId;
    this.limits = ack.limits;
    this.emit({ type: 'joined', clientId: ack.clientId, taskId: ack.task.taskId, currentRound: ack.currentRound });
    this.logger.info('joined', { clientId: ack.clientId, taskId: ack.task.taskId, currentRound: ack.currentRound });
    this.adoptTask(ack.task);
    this.joinedOn = s;
    // an update finished while the connection was down is delivered when the server announces the round again
    const overtaken = this.early;
    this.early = [];
    for (const payload of overtaken) this.onRoundStart(payload);
  }

  /** Tells the server, once per task and connection, that this client can be sampled (PROTOCOL.md §4). */
  private async sendReady(ready: Ready): Promise<void> {
    const s = this.socket;
    if (!s?.connected || this.joinedOn !== s) return; // the next join carries it
    try {
      const ack = parseAck(await s.timeout(this.ackTimeoutMs).emitWithAck('ready', ready));
      if (ack.ok && !ack.value.ok) this.logger.warn('ready refused', { code: ack.value.error.code, reason: ack.value.error.message });
    } catch (error) {
      this.logger.warn('ready got no ack', { reason: messageOf(error) });
    }
  }

  // ---- task

  private adoptTask(next: Task): void {
    if (this.task?.taskId === next.taskId) return;
    const previous = this.prepared;
    this.jobs.abortAll(`task changed to ${next.taskId}`);
    this.task = next;
    this.ready = undefined;
    this.jobs.resetRounds();
    this.emit({ type: 'task', taskId: next.taskId, classes: next.data.classes, backboneSha256: next.backbone.sha256, backboneBytes: next.backbone.bytes });
    this.logger.info('task received', { taskId: next.taskId, backbone: next.backbone.sha256 });
    const ready = (async () => {
      if (previous) await this.releaseWhenIdle(previous);
      return this.prepare(next);
    })();
    this.prepared = ready;
    ready.then(
      (p) => {
        if (this.prepared !== ready || this.stopping) return;
        this.ready = { taskId: p.task.taskId, backbone: p.task.backbone.sha256, examples: p.data.size };
        void this.sendReady(this.ready);
      },
      (error: Error) => {
        if (this.prepared === ready) this.fail(error);
      },
    );
  }

  private async releaseWhenIdle(previous: Promise<PreparedTask<D>>): Promise<void> {
    await this.jobs.settled();
    const old = await previous.catch(() => undefined);
    old?.loaded.dispose();
  }

  private async prepare(task: Task): Promise<PreparedTask<D>> {
    const prepared = await prepareTask(task, {
      shell: this.shell,
      request: backboneRequestOf(this.serverUrl, task.backbone.url, this.options.token),
      maxBackboneBytes: this.maxBackboneBytes,
      downloadAttempts: DOWNLOAD_ATTEMPTS,
      retryDelay: (attempt) => reconnectDelay(attempt, this.reconnect, this.random),
      signal: this.life.signal,
      emit: (e) => this.emit(e),
      logger: this.logger,
    });
    this.emit({ type: 'ready', taskId: task.taskId, backend: this.backend ?? 'cpu', examples: prepared.data.size });
    return prepared;
  }

  // ---- rounds

  private onRoundStart(payload: unknown): void {
    if (!this.joinedOn || this.joinedOn !== this.socket) {
      this.early.push(payload);
      return;
    }
    const parsed = parseRoundStart(payload);
    if (!parsed.ok) return this.logger.warn('ignored a malformed round:start', { reason: parsed.error.message });
    const start = parsed.value;
    if (this.stopping) return;
    if (!this.task || start.taskId !== this.task.taskId) {
      return this.logger.warn('ignored round:start of another task', { taskId: start.taskId, round: start.round });
    }
    const decision = this.jobs.decide(start);
    switch (decision.kind) {
      case 'stale':
        return this.logger.warn('ignored a stale round:start', { round: start.round, lastRound: decision.lastRound });
      case 'resend':
        return void this.deliver(decision.job);
      case 'known':
        return;
      case 'new': {
        const job = decision.job;
        job.finished = this.runRound(job, start).catch((error: unknown) => this.onRoundError(job, error));
      }
    }
  }

  private async onRoundError(job: RoundJob, error: unknown): Promise<void> {
    job.status = 'done';
    job.update = undefined;
    // a failed task preparation is already reported as the fatal error
    if (this.stopping || this.failing) return;
    const message = messageOf(error);
    this.report({ round: job.round, outcome: 'failed', reason: message });
    this.emit({ type: 'error', message: `round ${job.round}: ${message}`, fatal: false });
    this.logger.error('round failed', { round: job.round, reason: message });
    await this.sendFailure(job, error);
  }

  /** `round:failed` (PROTOCOL.md §5): the coordinator counts this client as answered and stops waiting for it. */
  private async sendFailure(job: RoundJob, error: unknown, timeoutMs = this.ackTimeoutMs): Promise<void> {
    const s = this.socket;
    const reason = failureReasonOf(error);
    const message = (messageOf(error) || 'training failed').slice(0, 1024);
    let counted = false;
    if (s?.connected) {
      try {
        const ack = parseAck(await s.timeout(timeoutMs).emitWithAck('round:failed', { taskId: job.taskId, round: job.round, reason, message }));
        counted = ack.ok && ack.value.ok;
        if (ack.ok && !ack.value.ok) this.logger.warn('round:failed refused', { round: job.round, code: ack.value.error.code, reason: ack.value.error.message });
      } catch (e) {
        this.logger.warn('round:failed got no ack', { round: job.round, reason: messageOf(e) });
      }
    }
    this.emit({ type: 'round:failed', round: job.round, reason, message, counted });
  }

  private async runRound(job: RoundJob, start: RoundStart): Promise<void> {
    const { loaded, data, task } = await (this.prepared as Promise<PreparedTask<D>>);
    const signal = job.controller.signal;
    const remaining = start.deadline - Date.now();
    if (remaining <= 0 || signal.aborted) {
      return this.skip(job, signal.aborted ? abortReason(signal) : 'deadline passed before training started');
    }
    const timer = setTimeout(() => job.controller.abort(new Error('deadline passed during training')), remaining);
    let trained;
    try {
      const { totalSteps } = loaded.plan(start);
      this.emit({ type: 'round:start', round: start.round, deadline: start.deadline, totalSteps });
      this.logger.info('training', { round: start.round, totalSteps, deadline: new Date(start.deadline).toISOString() });
      let lastProgress = -Infinity;
      trained = await loaded.train({
        start,
        initial: fromWire(start.state),
        signal,
        onProgress: (p) => {
          this.emit({ type: 'train', round: start.round, epoch: p.epoch, step: p.step, totalSteps: p.totalSteps, loss: p.loss, examplesPerSecond: p.examplesPerSecond });
          const now = Date.now();
          if (this.socket?.connected && now - lastProgress >= this.progressIntervalMs) {
            lastProgress = now;
            this.socket.volatile.emit('progress', { round: start.round, step: p.step, totalSteps: p.totalSteps, loss: p.loss });
          }
        },
      });
    } catch (error) {
      if (signal.aborted) return this.skip(job, abortReason(signal));
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > job.deadline) return this.skip(job, 'deadline passed during training');
    const m = trained.metrics;
    job.update = {
      taskId: task.taskId,
      round: start.round,
      tensors: toUpdateTensors(start.state, trained.state, task.updateDtype),
      // FedAvg weight: the local examples behind this update, each counted once
      numExamples: Math.max(1, Math.min(data.size, m.examples)),
      metrics: { loss: m.loss, accuracy: m.accuracy, examplesPerSecond: m.examplesPerSecond, seconds: m.seconds },
    };
    job.status = 'ready';
    await this.deliver(job);
  }

  private skip(job: RoundJob, reason: string): void {
    job.status = 'done';
    job.update = undefined;
    this.report({ round: job.round, outcome: 'skipped', reason });
    this.emit({ type: 'round:skipped', round: job.round, reason });
    this.logger.warn('round skipped', { round: job.round, reason });
  }

  private async deliver(job: RoundJob): Promise<void> {
    const s = this.socket;
    const update = job.update;
    if (job.status !== 'ready' || !update || this.stopping) return;
    if (Date.now() > job.deadline) return this.skip(job, 'deadline passed before the update could be sent');
    if (!s?.connected) return this.logger.info('update kept until the server announces the round again', { round: job.round });
    job.status = 'sending';
    let sent;
    try {
      sent = await sendUpdate(s, update, this.limits, this.ackTimeoutMs);
    } catch (error) {
      job.status = 'ready';
      this.emit({ type: 'error', message: `update of round ${job.round} got no ack (${messageOf(error)}); it is sent again if the server re-announces the round`, fatal: false });
      return;
    }
    this.emit({ type: 'update:sent', round: job.round, bytes: sent.bytes, chunks: sent.chunks });
    const { ack } = sent;
    job.status = 'done';
    job.update = undefined;
    this.emit({ type: 'update:acked', round: job.round, ack, numExamples: update.numExamples, metrics: update.metrics });
    const base = { round: job.round, numExamples: update.numExamples, loss: update.metrics.loss, accuracy: update.metrics.accuracy, seconds: update.metrics.seconds };
    // DUPLICATE after a reconnect means an earlier send of this update was accepted (§5)
    if (ack.ok || ack.error.code === ErrorCode.DUPLICATE) {
      this.report({ ...base, outcome: 'accepted' });
      this.logger.info('update accepted', { round: job.round });
      this.accepted++;
      if (this.options.maxRounds && this.accepted >= this.options.maxRounds) void this.stop(`finished ${this.accepted} round(s)`);
    } else {
      this.report({ ...base, outcome: 'refused', code: ack.error.code, reason: ack.error.message });
      this.logger.warn('update refused', { round: job.round, code: ack.error.code, reason: ack.error.message });
    }
  }

  private report(r: RoundReport): void {
    this.reports.push(r);
  }

  private onTaskFinished(payload: unknown): void {
    const parsed = parseTaskFinished(payload);
    if (!parsed.ok) return this.logger.warn('ignored a malformed task:finished', { reason: parsed.error.message });
    const finished = parsed.value;
    if (this.task && finished.taskId !== this.task.taskId) return this.logger.warn('ignored task:finished of another task', { taskId: finished.taskId });
    this.finished = finished;
    this.emit({ type: 'task:finished', finished });
    this.logger.info('task finished', { taskId: finished.taskId, roundsCompleted: finished.roundsCompleted });
    void this.stop(`task ${finished.taskId} finished after ${finished.roundsCompleted} round(s)`);
  }

  // ---- lifecycle

  private result(reason: string): ClientResult {
    return { clientId: this.id, taskId: this.task?.taskId, backend: this.backend, rounds: [...this.reports], reason, ...(this.finished ? { finished: this.finished } : {}) };
  }

  private shutdown(reason: string): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    this.life.abort(new Error(reason));
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.reconnectTimer = undefined;
    this.unreachableTimer = undefined;
    this.jobs.abortAll(reason);
    const s = this.socket;
    this.socket = undefined;
    s?.removeAllListeners();
    s?.disconnect();
    this.assembler?.dispose();
    this.stopped = (async () => {
      await this.jobs.settled();
      const p = await this.prepared?.catch(() => undefined);
      p?.loaded.dispose();
      this.emit({ type: 'stopped', reason });
      this.logger.info('stopped', { reason });
    })();
    return this.stopped;
  }

  private fail(error: Error): void {
    if (this.stopping || this.failing) return;
    this.failing = true;
    this.emit({ type: 'error', message: error.message, fatal: true });
    this.logger.error('fatal', { reason: error.message });
    // rounds this client was selected for would otherwise be waited on until their deadline
    const open = this.jobs.open();
    for (const job of open) job.status = 'done';
    void Promise.all(open.map((job) => this.sendFailure(job, error, FAILURE_NOTICE_MS)))
      .then(() => this.shutdown(error.message))
      .then(() => this.settle?.reject(error));
  }

  async stop(reason = 'stopped'): Promise<void> {
    const wasStopping = this.stopping;
    await this.shutdown(reason);
    if (!wasStopping) this.settle?.resolve(this.result(reason));
  }

  async start(): Promise<ClientResult> {
    if (this.started) throw new ClientError('OPTIONS', 'start() of a client may be called once');
    this.started = true;
    const done = new Promise<ClientResult>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    const signal = this.options.signal;
    const onAbort = () => void this.stop('aborted by signal');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.backend = await this.shell.backend.init();
      if (signal?.aborted) onAbort();
      else {
        this.watchReachability();
        this.connect();
      }
      return await done;
    } catch (error) {
      await this.shutdown(messageOf(error));
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Gives up when no join succeeds within `serverTimeoutMs` of the start. */
  private watchReachability(): void {
    if (!Number.isFinite(this.serverTimeoutMs)) return;
    this.unreachableTimer = setTimeout(() => {
      this.unreachableTimer = undefined;
      if (this.everJoined || this.stopping) return;
      const seconds = Math.round(this.serverTimeoutMs / 100) / 10;
      this.fail(new ClientError('UNREACHABLE', `no coordinator answered at ${this.serverUrl} within ${seconds} s (${this.lastProblem})`));
    }, this.serverTimeoutMs);
  }
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'aborted';
}

function errorCodeOf(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null && 'code' in data && typeof data.code === 'string') return data.code;
  return undefined;
}

function safeDecode(bytes: Uint8Array): unknown {
  try {
    return decodePayload(bytes);
  } catch {
    return undefined;
  }
}
