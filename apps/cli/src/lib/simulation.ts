import { ErrorCode } from '@fedsnell/protocol';
import {
  BackboneHashError,
  createClient,
  type BackboneCache,
  type Client,
  type ClientEvent,
  type ClientResult,
  type DataSource,
  type RoundTraining,
  type TrainedRound,
  type TrainingBackend,
} from '@fedsnell/client';
import { loadTfjsTask, trainInThread, type DatasetData, type SharedModel } from '@fedsnell/client/training';
import type { RoundRecord } from '@fedsnell/coordinator';
import { deriveSeed, mulberry32, rawImageDataset, type RawImage } from '@fedsnell/data';
import type { SimClock } from './sim-clock';
import type { SimWorkers } from './sim-workers';

/** What a virtual client does in a round it is selected for. */
export type Fate = 'reply' | 'straggle' | 'drop';

export interface FateOptions {
  seed: number;
  /** probability that a selected client never replies in a round */
  dropouts: number;
  /** probability that a selected client trains but replies only after the round has closed */
  stragglers: number;
}

/**
 * The fate of client `k` in `round`, from a stream of its own: it depends on the seed, the round and
 * the client only, not on who else was selected.
 */
export function fateOf(o: FateOptions, round: number, k: number): Fate {
  const u = mulberry32(deriveSeed(deriveSeed(o.seed ^ 0x5eed, round), k))();
  if (u < o.dropouts) return 'drop';
  if (u < o.dropouts + o.stragglers) return 'straggle';
  return 'reply';
}

/** The training pool in memory: decoded images, their labels, and each client's indices into it. */
export interface SimulationData {
  classes: string[];
  images: RawImage[];
  labels: Int32Array;
  shards: number[][];
}

/** What the lockstep needs to see of the coordinator: its round list (`/api/rounds`) and who is ready. */
export interface CoordinatorView {
  rounds(): Promise<RoundRecord[]>;
  readyClients(): Promise<number>;
}

export interface FleetOptions {
  server: string;
  token: string;
  data: SimulationData;
  /** the frozen backbone every virtual client trains on: one model in this process */
  shared: SharedModel;
  backbone: { bytes: Uint8Array; sha256: string };
  /** the tfjs backend already in use in this process */
  backend: string;
  fates: FateOptions;
  clock: SimClock;
  coordinator: CoordinatorView;
  /** training threads; absent: every client trains on this thread, one at a time */
  workers?: SimWorkers;
  /** the longest real wait for a step of the lockstep (a training request, a reply) before giving up */
  waitMs?: number;
}

/** A round's training that a virtual client's backend handed over, waiting for its turn. */
interface Turn {
  round: RoundTraining;
  run: () => Promise<TrainedRound>;
  resolve: (trained: TrainedRound) => void;
  reject: (error: Error) => void;
}

type Outcome = 'accepted' | 'refused' | 'skipped' | 'failed';

/**
 * N virtual clients in this process: each is the client core (`@fedsnell/client`, as the Node client
 * and the browser page run it) over the coordinator's socket.io endpoint on loopback, with the same
 * in-memory backbone and model, and a shard of the training pool as its data. Only their timing is
 * the simulation's: in each round the selected clients start training in id order (one at a time on
 * this thread, or on training threads), and their updates are delivered in id order, each
 * acknowledged before the next is sent (so the coordinator sees the same sequence every run);
 * stragglers train but reply only once the next round has opened, dropouts never
 * reply, and when a selected client has not delivered, the coordinator's clock jumps to the timer that
 * would close the round (the grace after minReplies, or the deadline), as waiting would.
 */
export class VirtualFleet {
  readonly ids: string[];
  private readonly clients: Client[];
  private readonly turns = new Mailbox<Turn>();
  private readonly outcomes = new Mailbox<Outcome>();
  private readonly signals = new Mailbox<true>();
  private readonly signalled = new Set<string>();
  private readonly ready = new Set<string>();
  private readonly waitMs: number;
  private failure: Error | undefined;

  constructor(private readonly o: FleetOptions) {
    const width = String(Math.max(o.data.shards.length - 1, 0)).length;
    this.ids = o.data.shards.map((_, k) => `sim-${String(k).padStart(width, '0')}`);
    this.waitMs = o.waitMs ?? 300_000;
    this.clients = this.ids.map((id, k) =>
      createClient(
        {
          server: o.server,
          token: o.token,
          clientId: id,
          // progress messages are for dashboards of real devices; hundreds of them only add traffic
          progressIntervalMs: 3_600_000,
          onEvent: (event) => this.onEvent(id, event),
        },
        {
          platform: 'node',
          userAgent: `fedsnell-simulate node/${process.versions.node}`,
          backbones: this.backboneCache(),
          data: this.shard(id, o.data.shards[k]),
          backend: this.trainingBackend(id, o.data.shards[k]),
        },
      ),
    );
  }

  /** Starts every client; resolves with their results once the task has finished for all of them. */
  start(): Promise<ClientResult[]> {
    return Promise.all(
      this.clients.map((c) =>
        c.start().catch((error: unknown) => {
          this.failure ??= error instanceof Error ? error : new Error(String(error));
          throw error;
        }),
      ),
    );
  }

  async stop(reason: string): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop(reason)));
  }

  /** Resolves once the coordinator counts every virtual client as ready to be sampled. */
  async whenAllReady(): Promise<void> {
    const started = Date.now();
    while ((await this.o.coordinator.readyClients()) < this.ids.length) {
      this.checkAlive();
      if (Date.now() - started > this.waitMs) throw new Error(`only ${this.ready.size} of ${this.ids.length} simulated clients got ready within ${this.waitMs / 1000} s`);
      await delay(20);
    }
  }

  /**
   * Plays rounds `0 … totalRounds - 1` in lockstep with the coordinator's round loop; `onClosed` gets
   * each round's record as the coordinator closed it.
   */
  async playRounds(totalRounds: number, onClosed: (record: RoundRecord) => void): Promise<void> {
    let late: { id: string; round: number; reply: () => void }[] = [];
    for (let round = 0; round < totalRounds; round++) {
      // a round has opened when one of its clients is handed its training; it has closed when
      // round:end reaches the clients (sent after the coordinator recorded it)
      await this.signals.take(`open#${round}`, this.waitMs, `round ${round} to open`, () => this.checkAlive());
      const opened = await this.record(round);
      if (opened.status === 'open') {
        const selected = [...opened.selected].sort();
        // last round's stragglers reply now: the coordinator refuses them as late (or, when the task
        // takes stale updates, folds them into this round) in the same order every run
        for (const straggler of late) {
          straggler.reply();
          await this.outcomes.take(key(straggler.id, straggler.round), this.waitMs, `the late reply of ${straggler.id} in round ${straggler.round}`);
        }
        late = [];
        const turns = await Promise.all(selected.map((id) => this.turns.take(key(id, round), this.waitMs, `${id} to start training round ${round}`, () => this.checkAlive())));
        const fates = selected.map((id) => fateOf(this.o.fates, round, this.ids.indexOf(id)));
        // clients start training in id order: on this thread one at a time, each as soon as the one
        // before has trained; with threads, on the first idle one. Updates are delivered in id order,
        // each once the one before has been answered, so the coordinator sees the same sequence
        let chain: Promise<unknown> = Promise.resolve();
        const trained = turns.map((turn, i) => {
          if (fates[i] === 'drop') return null;
          const started = this.o.workers ? turn.run() : chain.then(() => turn.run());
          const result = started.then(
            (state) => ({ ok: true as const, state }),
            (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
          );
          chain = result;
          return result;
        });
        let undelivered = false;
        for (let i = 0; i < selected.length; i++) {
          const id = selected[i];
          const turn = turns[i];
          const result = await trained[i];
          if (result === null) {
            undelivered = true;
            continue;
          }
          if (!result.ok) {
            turn.reject(result.error);
            undelivered = true;
            continue;
          }
          if (fates[i] === 'straggle') {
            late.push({ id, round, reply: () => turn.resolve(result.state) });
            undelivered = true;
            continue;
          }
          turn.resolve(result.state);
          const outcome = await this.outcomes.take(key(id, round), this.waitMs, `the reply of ${id} in round ${round}`);
          if (outcome !== 'accepted') undelivered = true;
        }
        // the coordinator would wait for the missing replies until a timer closes the round
        // (the grace after minReplies, else the deadline), and so does its clock, one timer at a time
        const deadline = turns[0].round.start.deadline;
        if (undelivered) while (this.o.clock.fireNext(deadline + 1)) await new Promise((r) => setImmediate(r));
      }
      await this.signals.take(`end#${round}`, this.waitMs, `round ${round} to close`, () => this.checkAlive());
      onClosed(await this.record(round));
    }
  }

  /** The coordinator's record of `round` (open or closed). */
  private async record(round: number): Promise<RoundRecord> {
    const found = (await this.o.coordinator.rounds()).find((r) => r.round === round);
    if (!found) throw new Error(`the coordinator lists no round ${round}`);
    return found;
  }

  /** Sends `name` to the lockstep once, however many clients report it. */
  private signal(name: string): void {
    if (this.signalled.has(name)) return;
    this.signalled.add(name);
    this.signals.put(name, true);
  }

  private checkAlive(): void {
    if (this.failure) throw this.failure;
  }

  private onEvent(id: string, event: ClientEvent): void {
    switch (event.type) {
      case 'ready':
        this.ready.add(id);
        return;
      case 'update:acked':
        return this.outcomes.put(key(id, event.round), event.ack.ok || event.ack.error.code === ErrorCode.DUPLICATE ? 'accepted' : 'refused');
      case 'round:skipped':
        return this.outcomes.put(key(id, event.round), 'skipped');
      case 'round:failed':
        return this.outcomes.put(key(id, event.round), 'failed');
      case 'round:end':
        return this.signal(`end#${event.end.round}`);
    }
  }

  /** Every client gets the same bytes (read once), after the same check a cache makes: the hash. */
  private backboneCache(): BackboneCache {
    const { bytes, sha256 } = this.o.backbone;
    return {
      fetch: async (request) => {
        if (request.sha256 !== sha256) throw new BackboneHashError(request.url, request.sha256, sha256);
        return { bytes, cached: true, downloadedBytes: 0, location: 'memory (shared by every simulated client)' };
      },
      discard: async () => undefined,
    };
  }

  private shard(id: string, indices: number[]): DataSource<DatasetData> {
    const { classes, images, labels } = this.o.data;
    return {
      open: async (preprocess) => ({
        location: `${id}'s shard`,
        classes,
        size: indices.length,
        skipped: [],
        dataset: rawImageDataset(classes, Int32Array.from(indices, (i) => labels[i]), (i) => images[indices[i]], preprocess),
      }),
    };
  }

  /** The shared model, trained when the lockstep gives this client its turn. */
  private trainingBackend(id: string, shard: number[]): TrainingBackend<DatasetData> {
    return {
      init: async () => this.o.backend,
      load: async (input) =>
        loadTfjsTask(
          input,
          (args) =>
            new Promise<TrainedRound>((resolve, reject) => {
              const { round } = args;
              const onAbort = () => reject(round.signal.reason instanceof Error ? round.signal.reason : new Error('aborted'));
              if (round.signal.aborted) return onAbort();
              round.signal.addEventListener('abort', onAbort, { once: true });
              const settle = <T>(fn: (v: T) => void) => (v: T) => {
                round.signal.removeEventListener('abort', onAbort);
                fn(v);
              };
              this.signal(`open#${round.start.round}`);
              const workers = this.o.workers;
              const run = workers ? () => workers.train({ shard, initial: round.initial, config: args.config, snell: args.task.snell }) : () => trainInThread(args);
              this.turns.put(key(id, round.start.round), { round, run, resolve: settle(resolve), reject: settle(reject) });
            }),
          this.o.shared,
        ),
    };
  }
}

function key(id: string, round: number): string {
  return `${id}#${round}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Values by key that may arrive before or after someone waits for them; each is taken once. */
class Mailbox<T> {
  private readonly values = new Map<string, T>();
  private readonly waiting = new Map<string, (value: T) => void>();

  put(k: string, value: T): void {
    const waiter = this.waiting.get(k);
    if (waiter) {
      this.waiting.delete(k);
      waiter(value);
    } else this.values.set(k, value);
  }

  take(k: string, timeoutMs: number, what: string, check?: () => void): Promise<T> {
    if (this.values.has(k)) {
      const value = this.values.get(k) as T;
      this.values.delete(k);
      return Promise.resolve(value);
    }
    return new Promise<T>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        try {
          check?.();
          if (Date.now() - started > timeoutMs) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
        } catch (error) {
          clearInterval(poll);
          this.waiting.delete(k);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }, 100);
      this.waiting.set(k, (value) => {
        clearInterval(poll);
        resolve(value);
      });
    });
  }
}
