import {
  ChunkAssembler,
  CLIENT_EVENTS,
  decodePayload,
  ErrorCode,
  parseChunk,
  parseJoin,
  parseProgress,
  parseReady,
  parseRoundFailed,
  parseUpdate,
  PROTOCOL_VERSION,
  protocolErrorSchema,
  type Ack,
  type ByteBudget,
  type JoinAck,
  type ProtocolError,
  type ProtocolLimits,
  type RoundStart,
  type Task,
  type TaskFinished,
} from '@fedsnell/protocol';
import { errorMessage } from '@fedsnell/util';
import type { ClientRecord } from './client-registry';
import type { Metrics } from './metrics';
import type { Monitor } from './monitor';
import type { Clock, Logger } from './options';
import type { RoundLoop } from './round-loop';
import { safeText } from './logger';

export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** What a session needs of the round loop. */
export type SessionLoop = Pick<RoundLoop, 'submit' | 'fail' | 'pendingStartFor' | 'wake' | 'currentRound'>;

/** What a session may do to its connection; the socket.io wiring provides it. */
export interface SessionPeer {
  /** Marks the connection joined and adds it to the room round:end and task:finished go to. */
  joined(info: { protocolVersion: number; platform: string; backend: string }): void;
  /** Drops the connection once the current ack is flushed. */
  disconnectSoon(): void;
  sendRoundStart(start: RoundStart): void;
  sendFinished(summary: TaskFinished): void;
  sendError(error: ProtocolError): void;
}

/** What every session of one coordinator shares. */
export interface SessionContext {
  task: Task;
  limits: ProtocolLimits;
  loop: SessionLoop;
  /** A client id becomes the client's for good once it joined. */
  confirmIdentity(clientId: string): void;
  monitor: Pick<Monitor, 'outcome'>;
  metrics: Metrics;
  clock: Clock;
  /** Chunk bytes held across all connections. */
  chunkBudget: ByteBudget;
  /** The task:finished summary once the last round closed, else null. */
  finished(): TaskFinished | null;
  /** Joined/ready counts changed (gauges). */
  onClientsChanged(): void;
}

/**
 * One client's connection as the protocol sees it: each client event is parsed, checked against the
 * client's state (joined, ready) and the round loop, counted, logged through the peer's rate-limited
 * logger, and answered. Nothing here touches a socket: `SessionPeer` is the way out, so a session is
 * tested with fakes.
 */
export class ClientSession {
  private readonly assembler: ChunkAssembler;

  constructor(
    private readonly ctx: SessionContext,
    readonly record: ClientRecord,
    private readonly peer: SessionPeer,
    private readonly log: Logger,
  ) {
    const { limits } = ctx;
    this.assembler = new ChunkAssembler({
      maxTotalBytes: limits.maxUpdateBytes,
      maxChunkBytes: limits.chunkBytes,
      maxConcurrentTransfers: limits.maxConcurrentTransfers,
      timeoutMs: limits.chunkTimeoutMs,
      maxBufferedBytes: limits.maxConnectionBufferBytes,
      budget: ctx.chunkBudget,
      onTimeout: (_id, error) => peer.sendError(error),
    });
  }

  /** The connection went: chunk buffers are freed. */
  dispose(): void {
    this.assembler.dispose();
  }

  join(payload: unknown): JoinAck {
    const { ctx, record } = this;
    const join = parseJoin(payload);
    if (!join.ok) {
      this.reject(join.error);
      return { ok: false, error: join.error };
    }
    if (!SUPPORTED_VERSIONS.includes(join.value.protocolVersion)) {
      const error = { code: ErrorCode.PROTOCOL_VERSION, message: `join.protocolVersion must be one of ${SUPPORTED_VERSIONS.join(', ')} but got ${join.value.protocolVersion}` };
      this.reject(error);
      // after the ack is flushed: a client that cannot speak our version has nothing more to say
      this.peer.disconnectSoon();
      return { ok: false, error, supportedVersions: [...SUPPORTED_VERSIONS] };
    }
    const now = ctx.clock.now();
    const { platform, backend } = join.value.capabilities;
    Object.assign(record, { joined: true, platform, backend, joinedAt: record.joinedAt ?? now, lastSeenAt: now });
    this.peer.joined({ protocolVersion: join.value.protocolVersion, platform, backend });
    ctx.confirmIdentity(record.clientId);
    const ready = join.value.ready;
    if (ready && !this.readyProblem(ready.taskId, ready.backbone)) Object.assign(record, { ready: true, examples: ready.examples });
    ctx.onClientsChanged();
    this.log.info('client joined', { clientId: record.clientId, platform: record.platform, backend: record.backend, resume: join.value.resume?.lastRound ?? null, ready: record.ready });
    const pending = ctx.loop.pendingStartFor(record.clientId);
    if (pending) ctx.clock.setTimeout(() => this.peer.sendRoundStart(pending), 0);
    const summary = ctx.finished();
    if (summary) ctx.clock.setTimeout(() => this.peer.sendFinished(summary), 0);
    ctx.loop.wake();
    return {
      ok: true,
      protocolVersion: join.value.protocolVersion,
      clientId: record.clientId,
      task: ctx.task,
      limits: wireLimits(ctx.limits),
      currentRound: ctx.loop.currentRound,
    };
  }

  /** The client is ready for the current task: it may be sampled from now on. */
  ready(payload: unknown): Ack {
    const { record } = this;
    if (!record.joined) return this.reject({ code: ErrorCode.NOT_JOINED, message: 'ready before a successful join' });
    const ready = parseReady(payload);
    if (!ready.ok) return this.reject(ready.error);
    const problem = this.readyProblem(ready.value.taskId, ready.value.backbone);
    if (problem) return this.reject(problem);
    const wasReady = record.ready;
    Object.assign(record, { ready: true, examples: ready.value.examples, lastSeenAt: this.ctx.clock.now() });
    if (!wasReady) this.log.info('client ready', { clientId: record.clientId, examples: ready.value.examples });
    this.ctx.loop.wake();
    return { ok: true };
  }

  async update(payload: unknown): Promise<Ack> {
    const { ctx, record } = this;
    record.lastSeenAt = ctx.clock.now();
    if (!record.joined) return this.reject({ code: ErrorCode.NOT_JOINED, message: 'update before a successful join' });
    const update = parseUpdate(payload);
    if (!update.ok) return this.reject(update.error);
    const ack = await ctx.loop.submit(record.clientId, update.value);
    if (!ack.ok) return this.reject(ack.error);
    record.accepted++;
    ctx.monitor.outcome(record.clientId, update.value.round);
    ctx.metrics.inc('updates_accepted_total');
    this.log.info('update accepted', { clientId: record.clientId, round: update.value.round, numExamples: update.value.numExamples });
    return ack;
  }

  roundFailed(payload: unknown): Ack {
    const { ctx, record } = this;
    if (!record.joined) return this.reject({ code: ErrorCode.NOT_JOINED, message: 'round:failed before a successful join' });
    const failed = parseRoundFailed(payload);
    if (!failed.ok) return this.reject(failed.error);
    const answer = ctx.loop.fail(record.clientId, failed.value);
    if (!answer.ok) return this.reject(answer.error);
    record.failedRounds++;
    record.lastSeenAt = ctx.clock.now();
    ctx.metrics.inc('round_failures_total', { reason: failed.value.reason });
    this.log.warn('client cannot train this round', { clientId: record.clientId, round: failed.value.round, reason: failed.value.reason, message: failed.value.message });
    return answer;
  }

  /** One chunk of a chunked update; the last one submits the whole update. */
  async chunk(payload: unknown): Promise<Ack> {
    if (!this.record.joined) return this.reject({ code: ErrorCode.NOT_JOINED, message: 'chunk before a successful join' });
    const chunk = parseChunk(payload);
    if (!chunk.ok) return this.reject(chunk.error);
    if (chunk.value.event !== 'update') {
      return this.reject({ code: ErrorCode.MALFORMED, message: `chunk.event must be 'update' from a client but got ${JSON.stringify(chunk.value.event)}` });
    }
    const result = await this.assembler.add(chunk.value);
    if (!result.ok) return this.reject(result.error);
    if (!result.done) return { ok: true };
    let payloadValue: unknown;
    try {
      payloadValue = decodePayload(result.bytes);
    } catch (error) {
      return this.reject({ code: ErrorCode.MALFORMED, message: `chunked update must be one msgpack value but decoding failed: ${errorMessage(error)}` });
    }
    return this.update(payloadValue);
  }

  progress(payload: unknown): void {
    const progress = parseProgress(payload);
    if (!progress.ok) return this.peer.sendError(progress.error);
    this.record.lastProgress = progress.value;
    this.record.lastSeenAt = this.ctx.clock.now();
  }

  /** The socket layer reports a packet it could not decode (or the peer sent this event itself). */
  malformed(report: unknown): void {
    const parsed = protocolErrorSchema.safeParse(report);
    // a peer may send this event itself: what it says is cut, escaped and rate-limited before logging
    const error = parsed.success ? { code: parsed.data.code, message: safeText(parsed.data.message) } : { code: ErrorCode.MALFORMED, message: 'malformed packet' };
    this.log.warn('malformed packet', { clientId: this.record.clientId, code: error.code, reason: error.message });
    this.peer.sendError(error);
  }

  /**
   * Any event outside the protocol: counted and logged; returns the error to ack with and then send
   * as an `error` event, or null for a protocol event.
   */
  unknownEvent(event: unknown): ProtocolError | null {
    if ((CLIENT_EVENTS as readonly unknown[]).includes(event)) return null;
    const error = { code: ErrorCode.UNKNOWN_EVENT, message: `event ${JSON.stringify(String(event)).slice(0, 80)} is not part of protocol version ${PROTOCOL_VERSION}` };
    this.ctx.metrics.inc('unknown_events_total');
    this.log.warn('unknown event', { clientId: this.record.clientId, event: String(event).slice(0, 80) });
    return error;
  }

  private readyProblem(taskId: string, sha256: string): ProtocolError | null {
    const { task } = this.ctx;
    if (taskId !== task.taskId) return { code: ErrorCode.WRONG_TASK, message: `ready.taskId must be the current task ${task.taskId} but got ${taskId}` };
    if (sha256 !== task.backbone.sha256) return { code: ErrorCode.WRONG_TASK, message: `ready.backbone must be the task's backbone ${task.backbone.sha256} but got ${sha256}` };
    return null;
  }

  private reject(error: ProtocolError): Ack {
    const { ctx, record } = this;
    record.rejected++;
    ctx.monitor.outcome(record.clientId, ctx.loop.currentRound, error);
    ctx.metrics.inc('updates_rejected_total', { code: error.code });
    this.log.warn('client message refused', { clientId: record.clientId, code: error.code, reason: error.message });
    return { ok: false, error };
  }
}

function wireLimits(limits: ProtocolLimits) {
  const { maxMessageBytes, chunkBytes, maxUpdateBytes, maxTensors, chunkTimeoutMs } = limits;
  return { maxMessageBytes, chunkBytes, maxUpdateBytes, maxTensors, chunkTimeoutMs };
}
