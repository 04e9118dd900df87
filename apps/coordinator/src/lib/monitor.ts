import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, type MonitorClient, type MonitorRound, type MonitorSnapshot, type ProtocolError, type Task } from '@fedsnell/protocol';
import { adaptedModules, computeSparseDelta, factorNames, resolveSnellConfig, type SnellConfig } from '@fedsnell/snell';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import type { ClientRecord } from './coordinator';
import type { RoundRecord } from './history';
import type { Metrics } from './metrics';
import type { Clock, Logger, RoundOptions } from './options';
import { errorMessage } from '@fedsnell/util';

/** What the monitor reads; the coordinator supplies it. */
export interface MonitorSource {
  task: Task;
  strategy: string;
  rounds: RoundOptions;
  /** null when the task's SNELL settings cannot be resolved (no density then) */
  snell: SnellConfig | null;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  state(): { state: string; phase: MonitorSnapshot['phase']; round: number | null };
  history(): readonly RoundRecord[];
  openRecord(): RoundRecord | null;
  clients(): Iterable<ClientRecord>;
  globalState(): TensorMap;
}

export interface Monitor {
  /** A client's update was accepted or refused (round null: refused before its round was known). */
  outcome(clientId: string, round: number | null, error?: ProtocolError): void;
  /** A round closed: note its wire bytes and compute its kept density. */
  roundClosed(round: number): void;
  snapshot(): MonitorSnapshot;
  /** Serves `GET /api/events` (already authenticated) as a text/event-stream. */
  subscribe(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

/** How often changes are looked for while someone watches. */
const TICK_MS = 500;
/** A comment line keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** S(ΔW) entries above which the per-module density is not computed (it would stall the event loop). */
const DENSITY_MAX_ENTRIES = 20_000_000;

/**
 * The operator's live view: a snapshot of task, round, clients and per-round history, pushed as
 * server-sent events whenever it changes. Bytes per round and kept density are remembered from the
 * moment each round closed, for the life of this process.
 */
export function createMonitor(source: MonitorSource): Monitor {
  const { clock, metrics } = source;
  const last = new Map<string, NonNullable<MonitorClient['last']>>();
  const perRound = new Map<number, { bytesReceived: number; bytesSent: number; density: Record<string, number> | null }>();
  let bytesAtLastClose = { received: 0, sent: 0 };
  const subscribers = new Set<ServerResponse>();
  let lastSent = '';
  let ticker: ReturnType<typeof setInterval> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const bytesNow = () => ({
    received: metrics.get('bytes_received_total', { channel: 'socket' }),
    sent: metrics.get('bytes_sent_total', { channel: 'socket' }) + metrics.get('bytes_sent_total', { channel: 'backbone' }),
  });

  function density(): Record<string, number> | null {
    const snell = source.snell;
    if (!snell) return null;
    const state = source.globalState();
    const modules: Array<[string, NamedTensor, NamedTensor]> = [];
    let entries = 0;
    for (const module of adaptedModules(state.keys())) {
      const [A, B] = factorNames(module).map((name) => state.get(name));
      if (!A || !B) continue;
      modules.push([module, A, B]);
      entries += A.shape[1] * B.shape[1];
    }
    if (modules.length === 0 || entries > DENSITY_MAX_ENTRIES) return null;
    const out: Record<string, number> = {};
    for (const [module, A, B] of modules) {
      const { kept, shape } = computeSparseDelta(A, B, snell);
      out[module] = kept / (shape[0] * shape[1]);
    }
    return out;
  }

  function clientState(record: ClientRecord, open: RoundRecord | null): MonitorClient['state'] {
    if (!record.connected) return 'offline';
    if (!record.joined) return 'connected';
    const outcome = last.get(record.clientId);
    if (open && outcome && outcome.round === open.round) return outcome.outcome;
    if (!open || !open.selected.includes(record.clientId)) return outcome && outcome.round === source.history().at(-1)?.round ? outcome.outcome : 'joined';
    const progress = record.lastProgress;
    if (!progress || progress.round !== open.round) return 'preparing';
    if (progress.totalSteps !== undefined && progress.step >= progress.totalSteps) return 'sending';
    return 'training';
  }

  function snapshot(): MonitorSnapshot {
    const now = clock.now();
    const open = source.openRecord();
    const { state, phase, round } = source.state();
    const task = source.task;
    const history = source.history();
    const rounds: MonitorRound[] = [...history, ...(open ? [open] : [])].map((r) => {
      const noted = perRound.get(r.round);
      return {
        round: r.round,
        status: r.status,
        updates: r.updates,
        rejected: r.rejected,
        startedAt: r.startedAt,
        closedAt: r.closedAt,
        accuracy: r.metrics['accuracy'] ?? null,
        loss: r.metrics['loss'] ?? null,
        gaps: r.gaps ?? {},
        bytesReceived: noted?.bytesReceived ?? null,
        bytesSent: noted?.bytesSent ?? null,
        density: noted?.density ?? null,
      };
    });
    const rejections: Record<string, number> = {};
    for (const code of ERROR_CODES) {
      const n = metrics.get('updates_rejected_total', { code });
      if (n > 0) rejections[code] = n;
    }
    const clients: MonitorClient[] = [...source.clients()].map((c) => ({
      clientId: c.clientId,
      state: clientState(c, open),
      platform: c.platform,
      backend: c.backend,
      progress:
        open && c.lastProgress && c.lastProgress.round === open.round
          ? { step: c.lastProgress.step, totalSteps: c.lastProgress.totalSteps ?? null, loss: c.lastProgress.loss ?? null }
          : null,
      accepted: c.accepted,
      rejected: c.rejected,
      last: last.get(c.clientId) ?? null,
      lastSeenAt: c.lastSeenAt,
    }));
    return {
      at: now,
      task: {
        taskId: task.taskId,
        classes: task.data.classes,
        strategy: source.strategy,
        updateDtype: task.updateDtype,
        backbone: { sha256: task.backbone.sha256, bytes: task.backbone.bytes },
        snell: { ...task.snell },
        trainer: { ...task.trainer },
        rounds: { ...source.rounds },
      },
      state,
      phase,
      round,
      deadline: open ? open.startedAt + source.rounds.roundTimeoutMs : null,
      roundsCompleted: history.length,
      clients,
      rounds,
      rejections,
      bytes: bytesNow(),
    };
  }

  function send(res: ServerResponse, text: string): void {
    res.write(`event: snapshot\ndata: ${text}\n\n`);
  }

  function tick(): void {
    if (subscribers.size === 0) return;
    const { at: _at, ...rest } = snapshot();
    const text = JSON.stringify(rest);
    if (text === lastSent) return;
    lastSent = text;
    for (const res of subscribers) send(res, text);
  }

  function stopTimers(): void {
    if (ticker) clearInterval(ticker);
    if (heartbeat) clearInterval(heartbeat);
    ticker = heartbeat = undefined;
  }

  return {
    outcome(clientId, round, error) {
      last.set(clientId, error ? { round, outcome: 'rejected', code: error.code, message: error.message, at: clock.now() } : { round, outcome: 'accepted', at: clock.now() });
    },
    roundClosed(round) {
      const now = bytesNow();
      const entry = { bytesReceived: now.received - bytesAtLastClose.received, bytesSent: now.sent - bytesAtLastClose.sent, density: null as Record<string, number> | null };
      bytesAtLastClose = now;
      perRound.set(round, entry);
      try {
        entry.density = density();
      } catch (error) {
        source.logger.warn('kept density not computed', { round, reason: errorMessage(error) });
      }
    },
    snapshot,
    subscribe(req, res) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no',
        Connection: 'keep-alive',
      });
      const { at: _at, ...rest } = snapshot();
      send(res, JSON.stringify(rest));
      subscribers.add(res);
      if (!ticker) {
        ticker = setInterval(tick, TICK_MS);
        heartbeat = setInterval(() => {
          for (const r of subscribers) r.write(': ping\n\n');
        }, HEARTBEAT_MS);
        ticker.unref();
        heartbeat.unref();
      }
      const drop = () => {
        subscribers.delete(res);
        if (subscribers.size === 0) stopTimers();
      };
      req.on('close', drop);
      res.on('error', drop);
    },
    close() {
      stopTimers();
      for (const res of subscribers) res.end();
      subscribers.clear();
    },
  };
}

/** The task's SNELL settings as the kept density needs them, or null when they do not resolve. */
export function monitorSnellConfig(task: Task): SnellConfig | null {
  const { kernel, p, scale, heads, rank, sparsity } = task.snell;
  const threshold = (task.snell as Record<string, unknown>)['threshold'];
  try {
    return resolveSnellConfig({
      kernel: kernel === 'linear' ? 'linear' : 'distance',
      p: p === 1 ? 1 : 2,
      scale,
      heads,
      rank,
      sparsity,
      ...(threshold === 'soft' || threshold === 'reference' ? { threshold } : {}),
    });
  } catch {
    return null;
  }
}
