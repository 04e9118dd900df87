import { readFile } from 'node:fs/promises';
import { io } from 'socket.io-client';
import {
  ChunkAssembler,
  createParser,
  decodePayload,
  DEFAULT_LIMITS,
  ErrorCode,
  parseErrorEvent,
  parseJoinAck,
  parseRoundEnd,
  parseRoundStart,
  parseTask,
  PROTOCOL_VERSION,
  type JoinRequest,
  type RoundStart,
  type Task,
  type Update,
  type WireLimits,
} from '@fedsnell/protocol';
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, type TensorMap } from '@fedsnell/tensor-io';
import { VisionTransformer, resolveVitConfig } from '@fedsnell/vit';
import { openImageFolder, type ImageFolderDataset } from '@fedsnell/data/node';
import { parseBackendChoice, trainLocal, trainLocalParallel, useBackend, type BackendChoice, type BackendName, type TrainOptions } from '@fedsnell/train';
import type { SnellConfig } from '@fedsnell/snell';
import { fetchBackbone } from './backbone-cache';
import { reconnectDelay, resolveReconnect, type ReconnectOptions } from './backoff';
import { SILENT_LOGGER, type ClientEvent, type ClientLogger } from './events';
import { sendUpdate, type ClientSocket } from './send-update';
import { checkClasses, preprocessFor, snellConfigOf, trainerConfigOf } from './task-config';
import { fromWire, toUpdateTensors } from './wire-state';

export interface NodeClientOptions {
  /** coordinator base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  /** client token */
  token: string;
  /** id to ask for; the server's answer is kept and reused on every reconnect */
  clientId?: string;
  /** local ImageFolder; its images never leave this process */
  dataDir: string;
  backend?: BackendChoice;
  /** backbones land in `<cacheDir>/<sha256>/model.safetensors` */
  cacheDir: string;
  logger?: ClientLogger;
  reconnect?: Partial<ReconnectOptions>;
  /** aborting it stops the client like stop() */
  signal?: AbortSignal;
  onEvent?: (event: ClientEvent) => void;
  /** stop after this many accepted updates (0 or absent: run until stopped) */
  maxRounds?: number;
  /**
   * Data-parallel worker threads for local training (wasm/cpu in each; tfjs-wasm is single-threaded
   * in Node, so this is how a client uses more than one core). 1 or absent: train on this thread.
   */
  workers?: number;
  /** wait for a join ack this long before reconnecting (PROTOCOL.md §4: 30 s) */
  joinTimeoutMs?: number;
  /** wait for an update (or chunk) ack this long */
  ackTimeoutMs?: number;
  /** at most one `progress` message per this many ms (the protocol allows one per second) */
  progressIntervalMs?: number;
  /** jitter source for back-off */
  random?: () => number;
}

/** One round this client took part in, as the result reports it. */
export interface RoundReport {
  round: number;
  /** 'accepted' (ok or DUPLICATE), 'refused' (the ack's code in `code`), 'skipped' (not sent: deadline, new task, error) */
  outcome: 'accepted' | 'refused' | 'skipped';
  code?: string;
  reason?: string;
  numExamples?: number;
  loss?: number;
  accuracy?: number;
  seconds?: number;
}

export interface NodeClientResult {
  clientId: string | undefined;
  taskId: string | undefined;
  backend: BackendName | undefined;
  rounds: RoundReport[];
  /** why the client stopped */
  reason: string;
}

export interface NodeClient {
  /** Connects and serves rounds; settles when the client stops: resolves after stop()/maxRounds/signal, rejects on a fatal error. */
  start(): Promise<NodeClientResult>;
  /** Aborts any training, disconnects, releases the model; resolves once everything has stopped. */
  stop(reason?: string): Promise<void>;
  readonly clientId: string | undefined;
}

interface Prepared {
  task: Task;
  /** the frozen backbone, for worker threads */
  tensors: TensorMap;
  model: VisionTransformer;
  data: ImageFolderDataset;
  snell: SnellConfig;
}

type JobStatus = 'training' | 'ready' | 'sending' | 'done';

interface RoundJob {
  taskId: string;
  round: number;
  deadline: number;
  status: JobStatus;
  update?: Update;
  controller: AbortController;
  finished: Promise<void>;
}

/** Attempts at fetching a backbone before the client gives up. */
const DOWNLOAD_ATTEMPTS = 5;

const FATAL_HANDSHAKE = new Set<string>([ErrorCode.UNAUTHORIZED, ErrorCode.MALFORMED]);

/** A federated client for Node: PROTOCOL.md §12, step by step, with reconnection and resume. */
export function createNodeClient(options: NodeClientOptions): NodeClient {
  const reconnect = resolveReconnect(options.reconnect);
  const logger = options.logger ?? SILENT_LOGGER;
  const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  const random = options.random ?? Math.random;
  const serverUrl = checkServerUrl(options.server);
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`workers passed to createNodeClient() must be an integer in [1, 64] but got ${workers}`);
  }
  if (workers > 1 && options.backend !== undefined && options.backend !== 'wasm' && options.backend !== 'cpu') {
    throw new Error(`workers passed to createNodeClient() runs wasm or cpu in worker threads; backend must be wasm or cpu but got ${options.backend}`);
  }
  const emit = (event: ClientEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn('onEvent listener threw', { reason: (error as Error).message });
    }
  };

  let started = false;
  let stopping = false;
  let backend: BackendName | undefined;
  let socket: ClientSocket | undefined;
  let assembler: ChunkAssembler | undefined;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let clientId = options.clientId;
  let task: Task | undefined;
  let prepared: Promise<Prepared> | undefined;
  let limits: WireLimits = { ...DEFAULT_LIMITS };
  let lastRound: number | undefined;
  let accepted = 0;
  const jobs = new Map<string, RoundJob>();
  const reports: RoundReport[] = [];
  // the socket whose join has been answered, and round:starts that overtook that answer: several
  // frames decoded in one read fire their events before the join ack's promise continues
  let joinedOn: ClientSocket | undefined;
  let early: unknown[] = [];
  let settle: { resolve: (r: NodeClientResult) => void; reject: (e: Error) => void } | undefined;
  let stopped: Promise<void> | undefined;
  // aborted on shutdown: cuts a backbone download short
  const life = new AbortController();

  const jobKey = (taskId: string, round: number) => `${taskId}#${round}`;

  function report(r: RoundReport): void {
    reports.push(r);
  }

  // ---- connection

  function connect(): void {
    if (stopping) return;
    const url = new URL(serverUrl);
    // a server URL with a path prefix (behind a proxy) keeps the default namespace '/'
    const s: ClientSocket = io(url.origin, {
      path: `${url.pathname.replace(/\/$/, '')}/socket.io/`,
      transports: ['websocket'],
      parser: createParser(),
      forceNew: true,
      reconnection: false,
      timeout: joinTimeoutMs,
      auth: clientId ? { token: options.token, clientId } : { token: options.token },
    });
    socket = s;
    joinedOn = undefined;
    early = [];
    assembler?.dispose();
    // the server's own chunk size is known only after the join ack: accept up to one whole frame
    const chunks = new ChunkAssembler({
      maxTotalBytes: Math.max(limits.maxUpdateBytes, DEFAULT_LIMITS.maxUpdateBytes),
      maxChunkBytes: DEFAULT_LIMITS.maxPacketBytes,
      maxConcurrentTransfers: DEFAULT_LIMITS.maxConcurrentTransfers,
      timeoutMs: limits.chunkTimeoutMs,
    });
    assembler = chunks;
    s.on('connect', () => {
      emit({ type: 'connected', server: serverUrl });
      logger.info('connected', { server: serverUrl });
      void join(s);
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      const code = errorCodeOf(err.data);
      if (code && FATAL_HANDSHAKE.has(code)) {
        // a refused token stays refused: retrying would only hammer the server (PROTOCOL.md §2)
        return fail(new Error(`server ${serverUrl} refused the connection (${code}): ${err.message}`));
      }
      retry(s, `cannot connect: ${err.message}`);
    });
    s.on('disconnect', (reason) => {
      if (stopping || s !== socket) return;
      emit({ type: 'disconnected', reason });
      logger.warn('disconnected', { reason });
      retry(s, `disconnected: ${reason}`);
    });
    s.on('task', (payload) => {
      const parsed = parseTask(payload);
      if (!parsed.ok) return logger.warn('ignored a malformed task', { reason: parsed.error.message });
      adoptTask(parsed.value);
    });
    s.on('round:start', (payload) => onRoundStart(payload));
    s.on('chunk', (chunk, ack) => {
      void chunks.add(chunk).then(
        (result) => {
          if (!result.ok) return ack({ ok: false, error: result.error });
          if (result.done) {
            if (result.event !== 'round:start') {
              return ack({ ok: false, error: { code: ErrorCode.TRANSFER, message: `a client only takes round:start transfers but got ${result.event}` } });
            }
            onRoundStart(safeDecode(result.bytes));
          }
          ack({ ok: true });
        },
        (error: Error) => ack({ ok: false, error: { code: ErrorCode.INTERNAL, message: error.message } }),
      );
    });
    s.on('round:end', (payload) => {
      const parsed = parseRoundEnd(payload);
      if (!parsed.ok) return logger.warn('ignored a malformed round:end', { reason: parsed.error.message });
      emit({ type: 'round:end', end: parsed.value });
      logger.info('round ended', { round: parsed.value.round, status: parsed.value.status, updates: parsed.value.updates });
    });
    s.on('error', (payload) => {
      const parsed = parseErrorEvent(payload);
      const error = parsed.ok ? parsed.value : { code: ErrorCode.INTERNAL, message: 'the server sent an error event of an unknown shape' };
      emit({ type: 'server:error', error });
      logger.warn('server error', { code: error.code, message: error.message });
    });
    s.on('malformed', (problem) => logger.warn('dropped a malformed packet from the server', { code: problem.code, reason: problem.message }));
  }

  function retry(s: ClientSocket, reason: string): void {
    if (stopping || s !== socket || reconnectTimer) return;
    s.removeAllListeners();
    s.disconnect();
    const delayMs = reconnectDelay(attempt, reconnect, random);
    attempt++;
    emit({ type: 'reconnecting', attempt, delayMs, reason });
    logger.info('reconnecting', { attempt, delayMs, reason });
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect();
    }, delayMs);
  }

  async function join(s: ClientSocket): Promise<void> {
    const request: JoinRequest = {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { backend: backend ?? 'cpu', platform: 'node', userAgent: `fedsnell-client-node node/${process.versions.node}`, dtypes: ['f32', 'f16'] },
      ...(task && lastRound !== undefined ? { resume: { taskId: task.taskId, lastRound } } : {}),
    };
    let answer: unknown;
    try {
      answer = await s.timeout(joinTimeoutMs).emitWithAck('join', request);
    } catch (error) {
      return retry(s, `join was not answered: ${(error as Error).message}`);
    }
    if (s !== socket || stopping) return;
    const parsed = parseJoinAck(answer);
    if (!parsed.ok) return fail(new Error(`server ${serverUrl} answered join with something that is not a JoinAck: ${parsed.error.message}`));
    const ack = parsed.value;
    if (!ack.ok) {
      if (ack.error.code === ErrorCode.PROTOCOL_VERSION) {
        const versions = ack.supportedVersions?.join(', ') ?? 'unknown';
        return fail(new Error(`server ${serverUrl} speaks protocol version(s) ${versions} but this client speaks ${PROTOCOL_VERSION}: ${ack.error.message}`));
      }
      return fail(new Error(`server ${serverUrl} refused join (${ack.error.code}): ${ack.error.message}`));
    }
    // back-off restarts only after a join succeeds, so a server that accepts sockets but never answers is not hammered
    attempt = 0;
    clientId = ack.clientId;
    limits = ack.limits;
    emit({ type: 'joined', clientId: ack.clientId, taskId: ack.task.taskId, currentRound: ack.currentRound });
    logger.info('joined', { clientId: ack.clientId, taskId: ack.task.taskId, currentRound: ack.currentRound });
    adoptTask(ack.task);
    joinedOn = s;
    // an update finished while the connection was down is delivered when the server announces the round again
    const overtaken = early;
    early = [];
    for (const payload of overtaken) onRoundStart(payload);
  }

  // ---- task

  function adoptTask(next: Task): void {
    if (task?.taskId === next.taskId) return;
    const previous = prepared;
    for (const job of jobs.values()) if (job.status !== 'done') job.controller.abort(new Error(`task changed to ${next.taskId}`));
    task = next;
    lastRound = undefined;
    emit({ type: 'task', taskId: next.taskId, classes: next.data.classes, backboneSha256: next.backbone.sha256, backboneBytes: next.backbone.bytes });
    logger.info('task received', { taskId: next.taskId, backbone: next.backbone.sha256 });
    const ready = (async () => {
      if (previous) await releaseWhenIdle(previous);
      return prepare(next);
    })();
    prepared = ready;
    ready.catch((error: Error) => {
      if (prepared === ready) fail(error);
    });
  }

  async function releaseWhenIdle(previous: Promise<Prepared>): Promise<void> {
    await Promise.all([...jobs.values()].map((j) => j.finished));
    const old = await previous.catch(() => undefined);
    old?.model.dispose();
  }

  async function prepare(t: Task): Promise<Prepared> {
    const url = new URL(t.backbone.url, serverUrl).href;
    // the client token unlocks a protected backbone (§9), but only on the coordinator's own origin
    const headers: Record<string, string> = new URL(url).origin === new URL(serverUrl).origin ? { Authorization: `Bearer ${options.token}` } : {};
    const fetched = await withRetries(
      () =>
        fetchBackbone({
          url,
          sha256: t.backbone.sha256,
          bytes: t.backbone.bytes,
          cacheDir: options.cacheDir,
          headers,
          signal: life.signal,
          onProgress: (p) => emit({ type: 'backbone', ...p }),
        }),
      'backbone download',
    );
    logger.info(fetched.cached ? 'backbone found in cache' : 'backbone downloaded', { path: fetched.path, downloadedBytes: fetched.downloadedBytes });
    const config = resolveVitConfig(t.backbone.config);
    const tensors = parseSafetensors(await readFile(fetched.path)).tensors;
    // A client's private data often covers only some of the task's classes (non-IID splits): every
    // class folder must exist, so that labels index the task's classes, but it may be empty.
    const data = await openImageFolder(options.dataDir, preprocessFor(config), { allowEmpty: true });
    checkClasses(t, data.classes, options.dataDir);
    const min = t.data.minExamples;
    if (min !== undefined && data.size < min) {
      throw new Error(`data folder ${options.dataDir} must hold at least ${min} images for task ${t.taskId} but has ${data.size}`);
    }
    const snell = snellConfigOf(t);
    // fail now, not at the first round, on trainer settings this client cannot run
    trainerConfigOf(t, { seed: 0 });
    const model = VisionTransformer.fromTensors(config, tensors);
    emit({ type: 'ready', taskId: t.taskId, backend: backend ?? 'cpu', examples: data.size });
    return { task: t, tensors, model, data, snell };
  }

  /**
   * Retries a transfer that failed on the way (each retry resumes with Range) with the reconnect
   * back-off; a wrong hash or a stop is final.
   */
  async function withRetries<T>(fn: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const message = (error as Error).message;
        if (attempt + 1 >= DOWNLOAD_ATTEMPTS || life.signal.aborted || message.includes('must have sha256')) throw error;
        const delayMs = reconnectDelay(attempt, reconnect, random);
        emit({ type: 'error', message: `${what} failed (${message}); retrying in ${delayMs} ms`, fatal: false });
        logger.warn(`${what} failed; retrying`, { attempt: attempt + 1, delayMs, reason: message });
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  // ---- rounds

  function onRoundStart(payload: unknown): void {
    if (!joinedOn || joinedOn !== socket) {
      early.push(payload);
      return;
    }
    const parsed = parseRoundStart(payload);
    if (!parsed.ok) return logger.warn('ignored a malformed round:start', { reason: parsed.error.message });
    const start = parsed.value;
    if (stopping) return;
    if (!task || start.taskId !== task.taskId) {
      return logger.warn('ignored round:start of another task', { taskId: start.taskId, round: start.round });
    }
    if (lastRound !== undefined && start.round < lastRound) return logger.warn('ignored a stale round:start', { round: start.round, lastRound });
    lastRound = start.round;
    for (const [key, job] of jobs) {
      if (job.round >= start.round && job.taskId === start.taskId) continue;
      // an older round is closed: stop its training; forget it once it has finished
      if (job.status !== 'done') job.controller.abort(new Error(`round ${start.round} started`));
      else jobs.delete(key);
    }
    const existing = jobs.get(jobKey(start.taskId, start.round));
    if (existing) {
      // the server re-announces a round only while it has no accepted update from us (§6)
      if (existing.status === 'ready') void deliver(existing);
      return;
    }
    const controller = new AbortController();
    const job: RoundJob = { taskId: start.taskId, round: start.round, deadline: start.deadline, status: 'training', controller, finished: Promise.resolve() };
    jobs.set(jobKey(start.taskId, start.round), job);
    job.finished = runRound(job, start).catch((error: Error) => {
      job.status = 'done';
      // a failed task preparation is already reported as the fatal error
      if (stopping) return;
      emit({ type: 'error', message: `round ${start.round}: ${error.message}`, fatal: false });
      logger.error('round failed', { round: start.round, reason: error.message });
    });
  }

  async function runRound(job: RoundJob, start: RoundStart): Promise<void> {
    const ready = await (prepared as Promise<Prepared>);
    const { model, data, snell, task: t, tensors } = ready;
    const remaining = start.deadline - Date.now();
    if (remaining <= 0 || job.controller.signal.aborted) {
      return skip(job, job.controller.signal.aborted ? String(job.controller.signal.reason?.message ?? 'aborted') : 'deadline passed before training started');
    }
    const timer = setTimeout(() => job.controller.abort(new Error('deadline passed during training')), remaining);
    const config = trainerConfigOf(t, start);
    const stepsPerEpoch = Math.ceil(data.size / config.batchSize);
    const totalSteps = config.maxSteps > 0 ? Math.min(config.maxSteps, stepsPerEpoch * config.epochs) : stepsPerEpoch * config.epochs;
    emit({ type: 'round:start', round: start.round, deadline: start.deadline, totalSteps });
    logger.info('training', { round: start.round, totalSteps, deadline: new Date(start.deadline).toISOString() });
    let lastProgress = -Infinity;
    let trained;
    try {
      const common: Omit<TrainOptions, 'model'> = {
        data,
        initial: fromWire(start.state),
        snell,
        config,
        signal: job.controller.signal,
        onProgress: (p) => {
          emit({ type: 'train', round: start.round, epoch: p.epoch, step: p.step, totalSteps: p.totalSteps, loss: p.loss, examplesPerSecond: p.examplesPerSecond });
          const now = Date.now();
          if (socket?.connected && now - lastProgress >= progressIntervalMs) {
            lastProgress = now;
            socket.volatile.emit('progress', { round: start.round, step: p.step, totalSteps: p.totalSteps, loss: p.loss });
          }
        },
      };
      trained =
        workers > 1
          ? await trainLocalParallel({
              ...common,
              backbone: { configJson: t.backbone.config, tensors },
              workers,
              backend: tf.getBackend() === 'cpu' ? 'cpu' : 'wasm',
              checkpoint: config.checkpoint,
            })
          : await trainLocal({ ...common, model });
    } catch (error) {
      if (job.controller.signal.aborted) return skip(job, String(job.controller.signal.reason?.message ?? 'aborted'));
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > job.deadline) return skip(job, 'deadline passed during training');
    const m = trained.metrics;
    job.update = {
      taskId: t.taskId,
      round: start.round,
      tensors: toUpdateTensors(start.state, trained.state, t.updateDtype),
      // FedAvg weight: the local examples behind this update, each counted once
      numExamples: Math.max(1, Math.min(data.size, m.examples)),
      metrics: { loss: m.loss, accuracy: m.accuracy, examplesPerSecond: m.examplesPerSecond, seconds: m.seconds },
    };
    job.status = 'ready';
    await deliver(job);
  }

  function skip(job: RoundJob, reason: string): void {
    job.status = 'done';
    job.update = undefined;
    report({ round: job.round, outcome: 'skipped', reason });
    emit({ type: 'round:skipped', round: job.round, reason });
    logger.warn('round skipped', { round: job.round, reason });
  }

  async function deliver(job: RoundJob): Promise<void> {
    const s = socket;
    const update = job.update;
    if (job.status !== 'ready' || !update || stopping) return;
    if (Date.now() > job.deadline) return skip(job, 'deadline passed before the update could be sent');
    if (!s?.connected) return logger.info('update kept until the server announces the round again', { round: job.round });
    job.status = 'sending';
    let sent;
    try {
      sent = await sendUpdate(s, update, limits, ackTimeoutMs);
    } catch (error) {
      job.status = 'ready';
      emit({ type: 'error', message: `update of round ${job.round} got no ack (${(error as Error).message}); it is sent again if the server re-announces the round`, fatal: false });
      return;
    }
    emit({ type: 'update:sent', round: job.round, bytes: sent.bytes, chunks: sent.chunks });
    const { ack } = sent;
    job.status = 'done';
    job.update = undefined;
    emit({ type: 'update:acked', round: job.round, ack, numExamples: update.numExamples, metrics: update.metrics });
    const base = { round: job.round, numExamples: update.numExamples, loss: update.metrics.loss, accuracy: update.metrics.accuracy, seconds: update.metrics.seconds };
    // DUPLICATE after a reconnect means an earlier send of this update was accepted (§5)
    if (ack.ok || ack.error.code === ErrorCode.DUPLICATE) {
      report({ ...base, outcome: 'accepted' });
      logger.info('update accepted', { round: job.round });
      accepted++;
      if (options.maxRounds && accepted >= options.maxRounds) void stop(`finished ${accepted} round(s)`);
    } else {
      report({ ...base, outcome: 'refused', code: ack.error.code, reason: ack.error.message });
      logger.warn('update refused', { round: job.round, code: ack.error.code, reason: ack.error.message });
    }
  }

  // ---- lifecycle

  function result(reason: string): NodeClientResult {
    return { clientId, taskId: task?.taskId, backend, rounds: [...reports], reason };
  }

  function shutdown(reason: string): Promise<void> {
    if (stopped) return stopped;
    stopping = true;
    life.abort(new Error(reason));
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    for (const job of jobs.values()) if (job.status !== 'done') job.controller.abort(new Error(reason));
    const s = socket;
    socket = undefined;
    s?.removeAllListeners();
    s?.disconnect();
    assembler?.dispose();
    stopped = (async () => {
      await Promise.all([...jobs.values()].map((j) => j.finished));
      const p = await prepared?.catch(() => undefined);
      p?.model.dispose();
      emit({ type: 'stopped', reason });
      logger.info('stopped', { reason });
    })();
    return stopped;
  }

  function fail(error: Error): void {
    if (stopping) return;
    emit({ type: 'error', message: error.message, fatal: true });
    logger.error('fatal', { reason: error.message });
    void shutdown(error.message).then(() => settle?.reject(error));
  }

  async function stop(reason = 'stopped'): Promise<void> {
    const wasStopping = stopping;
    await shutdown(reason);
    if (!wasStopping) settle?.resolve(result(reason));
  }

  async function start(): Promise<NodeClientResult> {
    if (started) throw new Error('start() of a Node client may be called once');
    started = true;
    const done = new Promise<NodeClientResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const onAbort = () => void stop('aborted by signal');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      backend = await useBackend(parseBackendChoice(options.backend ?? 'auto'));
      if (options.signal?.aborted) onAbort();
      else connect();
      return await done;
    } catch (error) {
      await shutdown((error as Error).message);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    start,
    stop,
    get clientId() {
      return clientId;
    },
  };
}

function checkServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`server passed to createNodeClient() must be an absolute http(s) URL but got '${server}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`server passed to createNodeClient() must be an http: or https: URL but got '${server}'`);
  }
  return url.href.replace(/\/$/, '');
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
