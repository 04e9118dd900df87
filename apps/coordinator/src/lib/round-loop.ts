import {
  encodeTensor,
  ErrorCode,
  type Ack,
  type ProtocolLimits,
  type RoundEnd,
  type RoundFailed,
  type RoundStart,
  type TaskFinished,
  type Update,
  type WireDType,
} from '@fedsnell/protocol';
import {
  configureRound,
  reframeStaleUpdate,
  validateUpdate,
  type AggregationResult,
  type ClientUpdate,
  type Strategy,
  type UpdateExpectations,
} from '@fedsnell/federation';
import type { TensorMap } from '@fedsnell/tensor-io';
import { errorMessage } from '@fedsnell/util';
import type { CheckpointStore } from './checkpoints';
import { faultPoint } from './fault';
import type { HistoryStore, RoundRecord } from './history';
import type { JournaledUpdate, RoundOpening, UpdateJournal } from './journal';
import type { Clock, Logger, RoundOptions } from './options';
import type { EvaluateFn, MeasureGapsFn } from './options';
import type { Resume } from './recovery';

export type LoopState = 'idle' | 'running' | 'paused' | 'finished' | 'closed';

/** What the loop needs from the transport; it never touches sockets itself. */
export interface RoundTransport {
  /** Ids of clients that are joined, connected and ready now: the ones that may be sampled. */
  joinedClients(): string[];
  /** Whether a client has a connection now (a selected client without one may still reconnect). */
  isConnected?(clientId: string): boolean;
  announce(clientIds: readonly string[], start: RoundStart): void;
  finish(end: RoundEnd): void;
}

export interface RoundLoopOptions {
  taskId: string;
  dtype: WireDType;
  limits: ProtocolLimits;
  rounds: RoundOptions;
  strategy: Strategy;
  evaluate: EvaluateFn;
  measureGaps?: MeasureGapsFn;
  checkpoints: CheckpointStore;
  history: HistoryStore;
  /** Write-ahead journal: every accepted update is on disk before its ack. */
  journal: UpdateJournal;
  /** Wait before retrying a state write that failed (disk full, read-only); default 10 s. */
  persistRetryMs?: number;
  clock: Clock;
  rng: () => number;
  /** Random source of one round; when given, a resumed coordinator repeats the same choices. */
  roundRng?: (round: number) => () => number;
  logger: Logger;
  transport: RoundTransport;
  /** Round to run next, the global state it starts from, and its journal when a restart interrupted it. */
  resume: Resume;
  onRoundClosed?: (record: RoundRecord) => void;
  /** The last round closed: the task is done. */
  onFinished?: (summary: TaskFinished) => void;
  /** Most `numExamples` one update may carry (task.data.maxExamples). */
  maxExamples?: number;
}

interface OpenRound {
  start: RoundStart;
  selected: Set<string>;
  accepted: Map<string, ClientUpdate>;
  /** discounted updates of earlier rounds, already moved into this round's frame */
  stale: Map<string, ClientUpdate>;
  /** selected clients that said they cannot deliver (round:failed) */
  failed: Set<string>;
  /** selected clients given up on: disconnected and not back within rounds.reconnectGraceMs */
  gone: Set<string>;
  rejected: number;
  startedAt: number;
  closed: boolean;
  close: () => void;
  timers: unknown[];
  /** journal appends in flight: the round aggregates only once they have settled */
  writes: Set<Promise<void>>;
  /** updates of this round (not stale ones) whose journal write is in flight */
  unwritten: number;
  /** clients whose update came back from the journal after a restart: their ack may have been lost */
  replayed: Set<string>;
}

/** A round that is aggregated but not yet on disk; the loop retries writing it until it is. */
interface Closing {
  record: RoundRecord;
  end: RoundEnd;
  global: TensorMap;
  strategyState: unknown;
  checkpointWritten: boolean;
}

/** `name[index]=value` of the first NaN or ±Infinity in `state`, or null. */
function firstNonFinite(state: TensorMap): string | null {
  for (const [name, t] of state) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return `${name}[${i}]=${data[i]}`;
  }
  return null;
}

/**
 * The one round loop: checkpoint, configure (the strategy's clients and trainer settings), announce,
 * collect (every wait bounded by a deadline), aggregate with the strategy, evaluate, checkpoint the
 * result, report. Updates are checked
 * synchronously on arrival, so a reply is either recorded whole or refused with nothing changed.
 */
export class RoundLoop {
  private state: LoopState = 'idle';
  private round: number;
  private global: TensorMap;
  private checkpointed: boolean;
  private open: OpenRound | null = null;
  private latestStarted: number | null;
  private running: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private aggregating = false;
  private replay: Resume['replay'] | null;
  private closing: Closing | null = null;
  private retryTimer: unknown = null;

  constructor(private readonly o: RoundLoopOptions) {
    this.round = o.resume.round;
    this.global = o.resume.global;
    this.checkpointed = o.resume.checkpointed;
    this.replay = o.resume.replay ?? null;
    // updates for rounds before the resumed one are stale, not unknown
    this.latestStarted = o.resume.round > 0 ? o.resume.round - 1 : null;
  }

  get loopState(): LoopState {
    return this.state;
  }

  /** The latest round announced (open or closed), or null before the first. */
  get currentRound(): number | null {
    return this.latestStarted;
  }

  get openRound(): number | null {
    return this.open && !this.open.closed ? this.open.start.round : null;
  }

  get phase(): 'idle' | 'training' | 'aggregating' {
    if (this.aggregating) return 'aggregating';
    return this.openRound === null ? 'idle' : 'training';
  }

  get nextRound(): number {
    return this.round;
  }

  get globalState(): TensorMap {
    return this.global;
  }

  start(): void {
    if (this.state === 'closed' || this.state === 'finished') return;
    this.cancelRetry();
    this.state = 'running';
    this.wake();
    if (!this.running) this.running = this.run().finally(() => this.afterRun());
  }

  private afterRun(): void {
    this.running = null;
    // start() may have come between the loop's last state check and here
    if (this.state === 'running') this.start();
  }

  /** The open round as /api/rounds shows it, or null. */
  openRecord(): RoundRecord | null {
    const open = this.open;
    if (!open || open.closed) return null;
    return {
      round: open.start.round,
      status: 'open',
      selected: [...open.selected],
      // an update whose journal write is still in flight is not on disk yet: not listed
      updates: open.accepted.size - open.unwritten,
      rejected: open.rejected,
      startedAt: open.startedAt,
      closedAt: null,
      metrics: {},
    };
  }

  /** No new round starts after the open one closes. */
  pause(): void {
    if (this.state === 'running') this.state = 'paused';
    this.cancelRetry();
    this.wake();
  }

  /** Stops at once: the open round is cancelled, nothing is aggregated. */
  async close(): Promise<void> {
    this.state = 'closed';
    this.cancelRetry();
    this.open?.close();
    this.wake();
    await this.running;
  }

  /** A join or a disconnect may let a waiting round proceed. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * The round:start a (re)joining client should get: it is selected and has not been heard from, or
   * its update came back from the journal after a restart (the crash may have taken its ack).
   */
  pendingStartFor(clientId: string): RoundStart | null {
    const open = this.open;
    if (!open || open.closed || !open.selected.has(clientId) || (open.accepted.has(clientId) && !open.replayed.has(clientId))) return null;
    return open.start;
  }

  /** Checks and records one update; the ack says why it was refused. */
  async submit(clientId: string, update: Update): Promise<Ack> {
    const refuse = (code: ErrorCode, message: string): Ack => {
      if (this.open && update.round === this.open.start.round) this.open.rejected++;
      return { ok: false, error: { code, message } };
    };
    if (update.taskId !== this.o.taskId) return refuse(ErrorCode.WRONG_TASK, `update.taskId must be the current task ${this.o.taskId} but got ${update.taskId}`);
    const latest = this.latestStarted;
    if (latest === null || update.round > latest) {
      return refuse(ErrorCode.WRONG_ROUND, `update.round must be a round that has started (latest: ${latest ?? 'none'}) but got ${update.round}`);
    }
    if (update.round < latest) return this.submitStale(clientId, update, latest, refuse);
    const open = this.open;
    if (!open || open.closed || this.o.clock.now() > open.start.deadline) {
      return refuse(ErrorCode.LATE, `update for round ${update.round} arrived after the round closed`);
    }
    if (!open.selected.has(clientId)) return refuse(ErrorCode.NOT_SELECTED, `client ${clientId} was not selected for round ${update.round}`);
    if (open.accepted.has(clientId) || open.failed.has(clientId)) {
      return refuse(ErrorCode.DUPLICATE, `client ${clientId} already ${open.failed.has(clientId) ? 'reported a failure' : 'sent its update'} for round ${update.round}`);
    }
    const checked = validateUpdate(update, this.expectations(clientId, this.global));
    if (!checked.ok) return refuse(checked.error.code, checked.error.message);
    return this.accept(open, clientId, checked.value, false);
  }

  /** What an update from `clientId` is checked against when its round started from `global`. */
  private expectations(clientId: string, global: TensorMap): UpdateExpectations {
    return {
      clientId,
      global,
      dtype: this.o.dtype,
      limits: this.o.limits,
      maxUpdateNorm: this.o.rounds.maxUpdateNorm,
      maxRelativeUpdateNorm: this.o.rounds.maxRelativeUpdateNorm,
      maxExamples: this.o.maxExamples,
    };
  }

  /**
   * Write-ahead: the update is appended to the round's journal and fsynced before it is acknowledged,
   * so an acknowledged update survives a crash. Its slot is taken at once, so a second copy arriving
   * during the write is a DUPLICATE; a failed write frees it and the client may send again.
   */
  private async accept(open: OpenRound, clientId: string, update: ClientUpdate, stale: boolean): Promise<Ack> {
    const round = open.start.round;
    const slots = stale ? open.stale : open.accepted;
    slots.set(clientId, update);
    const write = this.o.journal.append(round, { update, stale });
    open.writes.add(write);
    if (!stale) open.unwritten++;
    try {
      await write;
    } catch (error) {
      slots.delete(clientId);
      open.rejected++;
      const reason = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
      this.o.logger.error('could not journal an update; refused', { round, clientId, reason });
      return { ok: false, error: { code: ErrorCode.INTERNAL, message: `the coordinator could not store the update for round ${round} (${reason}); send it again` } };
    } finally {
      open.writes.delete(write);
      if (!stale) open.unwritten--;
    }
    faultPoint('update-journaled');
    this.recordAccepted(round, update);
    if (!stale) {
      this.recent.get(round)?.delivered.add(clientId);
      this.maybeClose(open);
    }
    return { ok: true };
  }

  /**
   * The one place an update becomes part of a round (on disk, fresh or stale, acknowledged or
   * replayed from the journal): the strategy's per-update step sees it here. A failure there only
   * costs the strategy its head start; `aggregate` still gets every update.
   */
  private recordAccepted(round: number, update: ClientUpdate): void {
    if (!this.o.strategy.accept) return;
    try {
      this.o.strategy.accept({ round, global: this.global, rng: this.rngOf(round) }, update);
    } catch (error) {
      this.o.logger.warn('the strategy could not take an update as it arrived; it is aggregated at close', { round, clientId: update.clientId, reason: errorMessage(error) });
    }
  }

  /**
   * A selected client cannot deliver this round (round:failed): it is counted and no longer waited
   * for; the round closes at once if the others cannot reach minReplies.
   */
  fail(clientId: string, failed: RoundFailed): Ack {
    const refuse = (code: ErrorCode, message: string): Ack => ({ ok: false, error: { code, message } });
    if (failed.taskId !== this.o.taskId) return refuse(ErrorCode.WRONG_TASK, `roundFailed.taskId must be the current task ${this.o.taskId} but got ${failed.taskId}`);
    const latest = this.latestStarted;
    if (latest === null || failed.round > latest) return refuse(ErrorCode.WRONG_ROUND, `roundFailed.round must be a round that has started (latest: ${latest ?? 'none'}) but got ${failed.round}`);
    if (failed.round < latest) return refuse(ErrorCode.STALE, `roundFailed.round ${failed.round} is stale: round ${latest} is the latest`);
    const open = this.open;
    if (!open || open.closed) return refuse(ErrorCode.LATE, `round ${failed.round} already closed`);
    if (!open.selected.has(clientId)) return refuse(ErrorCode.NOT_SELECTED, `client ${clientId} was not selected for round ${failed.round}`);
    if (open.accepted.has(clientId) || open.failed.has(clientId)) return refuse(ErrorCode.DUPLICATE, `client ${clientId} already answered round ${failed.round}`);
    open.failed.add(clientId);
    this.checkReachable(open);
    return { ok: true };
  }

  /**
   * A client's connection went. If it was selected and has not answered, it is given up on once
   * `reconnectGraceMs` has passed without it coming back; the round then closes when nobody else is
   * expected or the others cannot reach minReplies.
   */
  clientLeft(clientId: string): void {
    const open = this.open;
    if (!open || open.closed || !open.selected.has(clientId) || open.accepted.has(clientId)) return;
    const giveUp = () => {
      if (open.closed || open.accepted.has(clientId) || this.o.transport.isConnected?.(clientId)) return;
      open.gone.add(clientId);
      this.checkReachable(open);
    };
    const grace = this.o.rounds.reconnectGraceMs ?? 0;
    if (grace === 0) return giveUp();
    open.timers.push(this.o.clock.setTimeout(giveUp, grace));
  }

  /** Selected clients still expected to answer: neither delivered, nor failed, nor given up on. */
  private stillExpected(open: OpenRound): number {
    let pending = 0;
    for (const id of open.selected) if (!open.accepted.has(id) && !open.failed.has(id) && !open.gone.has(id)) pending++;
    return pending;
  }

  /** Closes the round when nobody is still expected, or when minReplies is out of reach. */
  private checkReachable(open: OpenRound): void {
    if (open.closed) return;
    const pending = this.stillExpected(open);
    if (pending === 0 || open.accepted.size + pending < this.neededReplies(open)) {
      this.o.logger.info('round closes early', { round: open.start.round, accepted: open.accepted.size, failed: open.failed.size, gone: open.gone.size, stillExpected: pending });
      open.close();
    }
  }

  /** Start state, selection and deliveries of the last rounds, for discounted stale updates. */
  private readonly recent = new Map<number, { start: TensorMap; selected: Set<string>; delivered: Set<string> }>();

  /**
   * An update for an older round: refused (STALE) unless `rounds.staleUpdates` allows it, in which case
   * its change against the state its round started from is applied to the open round's state, and its
   * weight is discounted by discount^staleness. Rounds from before a restart are not remembered.
   */
  private async submitStale(clientId: string, update: Update, latest: number, refuse: (code: ErrorCode, message: string) => Ack): Promise<Ack> {
    const policy = this.o.rounds.staleUpdates;
    const staleness = latest - update.round;
    const past = this.recent.get(update.round);
    const open = this.open;
    if (!policy || staleness > policy.maxStaleness || !past || !open || open.closed || this.o.clock.now() > open.start.deadline) {
      return refuse(ErrorCode.STALE, `update.round ${update.round} is stale: round ${latest} is the latest`);
    }
    if (!past.selected.has(clientId)) return refuse(ErrorCode.NOT_SELECTED, `client ${clientId} was not selected for round ${update.round}`);
    if (past.delivered.has(clientId) || open.stale.has(clientId)) {
      return refuse(ErrorCode.DUPLICATE, `client ${clientId} already sent its update for round ${update.round}`);
    }
    const checked = validateUpdate(update, this.expectations(clientId, past.start));
    if (!checked.ok) return refuse(checked.error.code, checked.error.message);
    const moved = reframeStaleUpdate(checked.value, { startedFrom: past.start, current: this.global }, { discount: policy.discount, staleness });
    past.delivered.add(clientId);
    const ack = await this.accept(open, clientId, moved, true);
    if (!ack.ok) past.delivered.delete(clientId);
    return ack;
  }

  private async run(): Promise<void> {
    while (this.state === 'running') {
      if (this.closing) {
        await this.commitClose().catch((error: unknown) => this.persistFailed(error));
        continue;
      }
      if (this.round >= this.o.rounds.totalRounds) {
        this.state = 'finished';
        const last = this.o.history.list().at(-1);
        const summary: TaskFinished = {
          taskId: this.o.taskId,
          roundsCompleted: this.o.history.list().length,
          lastRound: last?.round ?? null,
          metrics: { ...(last?.metrics ?? {}) },
        };
        this.o.logger.info('task finished: all rounds done', { rounds: this.round, roundsCompleted: summary.roundsCompleted, accuracy: summary.metrics.accuracy });
        this.o.onFinished?.(summary);
        break;
      }
      const joined = this.o.transport.joinedClients();
      // a round reopened from its journal keeps its selection: it does not wait for new clients
      if (joined.length < this.o.rounds.minClients && this.replay?.opening.round !== this.round) {
        this.o.logger.info('waiting for clients', { joined: joined.length, needed: this.o.rounds.minClients });
        await this.sleep(this.o.rounds.waitForClientsMs);
        continue;
      }
      // a failed state write or transport must not become an unhandled rejection: stop safely
      await this.runRound(joined).catch((error: unknown) => this.persistFailed(error));
    }
  }

  /**
   * A state write failed (disk full, read-only, permissions) or the transport threw: pause, keep
   * what is not yet on disk (the closing round, the journal), and retry after `persistRetryMs`;
   * POST /api/start retries at once.
   */
  private persistFailed(error: unknown): void {
    const retryMs = this.o.persistRetryMs ?? 10_000;
    if (this.state === 'running') this.state = 'paused';
    // a retried round draws its selection and seed again from the start of its generator
    this.roundRngs.clear();
    this.o.logger.error('writing the state folder failed; paused, retrying (POST /api/start retries now)', {
      round: this.closing?.record.round ?? this.round,
      reason: errorMessage(error),
      retryInMs: retryMs,
    });
    if (this.state !== 'paused') return;
    this.cancelRetry();
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.state === 'paused') this.start();
    }, retryMs);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * The round's selection, trainer overrides and seed: configured by the strategy and journaled before
   * anything is announced, or read back from the journal of the round a restart interrupted (with the
   * updates accepted before it).
   */
  private async beginRound(round: number, joined: string[]): Promise<{ opening: RoundOpening; replayed: JournaledUpdate[] }> {
    const replay = this.replay;
    if (replay && replay.opening.round === round) {
      // the aggregation draws from the round's generator where the first run left it
      const rng = this.rngOf(round);
      for (let i = 0; i < replay.opening.draws; i++) rng();
      this.replay = null;
      return { opening: replay.opening, replayed: replay.updates };
    }
    const base = this.rngOf(round);
    let draws = 0;
    const rng = () => {
      draws++;
      return base();
    };
    const { clients: selected, overrides } = configureRound(this.o.strategy, { round, global: this.global, candidates: joined, sampling: this.o.rounds, rng });
    const seed = Math.floor(rng() * 0x100000000) >>> 0;
    const opening: RoundOpening = { round, taskId: this.o.taskId, selected, seed, draws, startedAt: this.o.clock.now(), ...(overrides ? { overrides } : {}) };
    await this.o.journal.begin(opening);
    faultPoint('round-open');
    return { opening, replayed: [] };
  }

  private readonly roundRngs = new Map<number, () => number>();

  /** The same generator for sampling, the round seed and aggregation of one round. */
  private rngOf(round: number): () => number {
    if (!this.o.roundRng) return this.o.rng;
    let rng = this.roundRngs.get(round);
    if (!rng) {
      this.roundRngs.clear();
      rng = this.o.roundRng(round);
      this.roundRngs.set(round, rng);
    }
    return rng;
  }

  private async runRound(joined: string[]): Promise<void> {
    const { clock, rounds, logger } = this.o;
    const round = this.round;
    if (!this.checkpointed) await this.saveCheckpoint();
    if (this.state !== 'running') return;
    const { opening, replayed } = await this.beginRound(round, joined);
    // stopped or paused during the journal write: a later start (or restart) reopens the round from it
    if (this.state !== 'running') {
      this.replay = { opening, updates: replayed };
      return;
    }
    const selected = opening.selected;
    const start: RoundStart = {
      taskId: this.o.taskId,
      round,
      deadline: clock.now() + rounds.roundTimeoutMs,
      seed: opening.seed,
      state: [...this.global].map(([name, t]) => encodeTensor(name, t.shape, t.data, 'f32')),
      ...(opening.overrides ? { overrides: opening.overrides } : {}),
    };
    let close!: () => void;
    const closed = new Promise<void>((resolve) => (close = resolve));
    const fresh = replayed.filter((e) => !e.stale).map((e): [string, ClientUpdate] => [e.update.clientId, e.update]);
    const stale = replayed.filter((e) => e.stale).map((e): [string, ClientUpdate] => [e.update.clientId, e.update]);
    this.recent.set(round, { start: this.global, selected: new Set(selected), delivered: new Set(fresh.map(([id]) => id)) });
    for (const r of this.recent.keys()) if (r < round - (this.o.rounds.staleUpdates?.maxStaleness ?? 0)) this.recent.delete(r);
    const open: OpenRound = { start, selected: new Set(selected), accepted: new Map(fresh), stale: new Map(stale), failed: new Set(), gone: new Set(), rejected: 0, startedAt: opening.startedAt, closed: false, close, timers: [], writes: new Set(), unwritten: 0, replayed: new Set(fresh.map(([id]) => id)) };
    open.timers.push(clock.setTimeout(close, rounds.roundTimeoutMs));
    this.open = open;
    this.latestStarted = round;
    for (const entry of replayed) this.recordAccepted(round, entry.update);
    if (replayed.length === 0) logger.info('round started', { round, selected: selected.join(','), deadline: start.deadline });
    else logger.info('round reopened with its journaled updates', { round, selected: selected.join(','), accepted: open.accepted.size, deadline: start.deadline });
    // after a restart every selected client hears of the round again: one whose update is journaled
    // ignores it, or, if the crash took its ack, sends the update again and is answered DUPLICATE
    this.o.transport.announce(selected, start);
    if (open.accepted.size >= open.selected.size) close();
    else if (replayed.length > 0 && open.accepted.size >= this.neededReplies(open)) open.timers.push(clock.setTimeout(close, rounds.graceMs));
    await closed;
    open.closed = true;
    await Promise.allSettled([...open.writes]);
    for (const timer of open.timers) clock.clearTimeout(timer);
    this.aggregating = true;
    try {
      await this.finishRound(open);
    } finally {
      this.aggregating = false;
    }
  }

  private maybeClose(open: OpenRound): void {
    const { rounds, clock } = this.o;
    if (this.stillExpected(open) === 0) return open.close();
    if (open.accepted.size === this.neededReplies(open)) open.timers.push(clock.setTimeout(open.close, rounds.graceMs));
  }

  /** minReplies, or every selected client when fewer were selected. */
  private neededReplies(open: OpenRound): number {
    return Math.min(this.o.rounds.minReplies, open.selected.size);
  }

  private async finishRound(open: OpenRound): Promise<void> {
    const { logger } = this.o;
    const round = open.start.round;
    const fresh = [...open.accepted.values()];
    const updates = [...fresh, ...open.stale.values()];
    let status: RoundEnd['status'] = 'kept';
    let metrics: Record<string, number> = {};
    let gaps: Record<string, number> | undefined;
    let sparseDeltas: AggregationResult['sparseDeltas'];
    let reason: string | undefined;
    if (this.state === 'closed') {
      status = 'cancelled';
    } else if (fresh.length >= this.neededReplies(open)) {
      try {
        const result = await this.o.strategy.aggregate({ round, global: this.global, rng: this.rngOf(round) }, updates);
        const bad = result ? firstNonFinite(result.state) : null;
        if (result && bad) {
          // one NaN or Infinity would poison every later round: refuse the result, keep the state
          status = 'failed';
          reason = `aggregate is non-finite (${bad}); previous global state kept`;
          logger.error('aggregate refused; previous global state kept', { round, reason: bad });
        } else if (result) {
          this.global = result.state;
          gaps = result.gaps ?? this.o.measureGaps?.(updates, result.state);
          sparseDeltas = result.sparseDeltas;
          status = 'aggregated';
        }
      } catch (error) {
        status = 'failed';
        reason = `aggregation failed: ${errorMessage(error)}`;
        logger.error('aggregation failed; previous global state kept', { round, reason: errorMessage(error) });
      }
      if (status === 'aggregated') {
        try {
          metrics = await this.o.evaluate(this.global, sparseDeltas);
        } catch (error) {
          logger.error('evaluation failed', { round, reason: errorMessage(error) });
        }
      }
    }
    // cancelled (the coordinator is stopping): the journal keeps the round's updates for the restart
    if (status === 'cancelled') return;
    faultPoint('aggregated');
    const record: RoundRecord = {
      round,
      status,
      selected: [...open.selected],
      updates: updates.length,
      ...(open.stale.size ? { staleUpdates: open.stale.size } : {}),
      rejected: open.rejected,
      ...(open.failed.size ? { failed: open.failed.size } : {}),
      ...(reason ? { reason } : {}),
      startedAt: open.startedAt,
      closedAt: this.o.clock.now(),
      metrics,
      ...(gaps ? { gaps } : {}),
    };
    this.closing = {
      record,
      end: { taskId: this.o.taskId, round, status, updates: updates.length, metrics },
      global: this.global,
      strategyState: this.o.strategy.serializeState?.(),
      checkpointWritten: false,
    };
    await this.commitClose();
  }

  /**
   * Closing a round is one atomic write: the checkpoint of the next round carries the round's record.
   * Only then is rounds.json rewritten, the list /api/rounds serves updated, the journal removed and
   * round:end sent, so nothing is shown that is not on disk. A failed write leaves `closing` set and
   * the loop retries it; a crash before the checkpoint is replayed from the journal.
   */
  private async commitClose(): Promise<void> {
    const closing = this.closing;
    if (!closing) return;
    const { record, end } = closing;
    if (!closing.checkpointWritten) {
      await this.o.checkpoints.save(closing.global, {
        round: record.round + 1,
        taskId: this.o.taskId,
        createdAt: record.closedAt ?? this.o.clock.now(),
        strategyState: closing.strategyState,
        closed: record,
      });
      closing.checkpointWritten = true;
    }
    await this.o.history.append(record);
    this.closing = null;
    this.round = record.round + 1;
    this.checkpointed = true;
    await this.o.journal.discard(record.round).catch((error: Error) => {
      // harmless: a start removes journals of rounds a checkpoint records
      this.o.logger.warn('could not remove a closed round\'s journal', { round: record.round, reason: error.message });
    });
    this.o.logger.info('round closed', { round: record.round, status: record.status, updates: record.updates, rejected: record.rejected });
    this.o.onRoundClosed?.(record);
    this.o.transport.finish(end);
  }

  private async saveCheckpoint(): Promise<void> {
    await this.o.checkpoints.save(this.global, {
      round: this.round,
      taskId: this.o.taskId,
      createdAt: this.o.clock.now(),
      strategyState: this.o.strategy.serializeState?.(),
    });
    this.checkpointed = true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.o.clock.setTimeout(() => done(), ms);
      const done = () => {
        this.o.clock.clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      this.wakeUp = done;
    });
  }
}
