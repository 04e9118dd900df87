import type { ProtocolLimits, Task } from '@fedsnell/protocol';
import type { ClientUpdate, Strategy } from '@fedsnell/federation';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { StateWriter } from './state-files';

/** Time as the coordinator sees it; tests inject a controllable one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // a pending round timer must not keep a finished process alive
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface RoundOptions {
  /** Share of joined clients sampled each round. */
  fraction: number;
  /** Fewest clients to sample; a round waits (bounded, re-checked) until this many have joined. */
  minClients: number;
  /** Most clients to sample. */
  maxClients: number;
  /** Valid replies after which the round closes once `graceMs` has passed. */
  minReplies: number;
  /** Extra wait after `minReplies` for stragglers. */
  graceMs: number;
  /** Time from announcement to deadline. */
  roundTimeoutMs: number;
  /** How long one wait for enough clients lasts before the loop re-checks its state. */
  waitForClientsMs: number;
  /** Rounds to run in total (the loop stops after round `totalRounds - 1`). */
  totalRounds: number;
  /** L2 bound on `update − global` over all tensors; absent means unbounded. */
  maxUpdateNorm?: number;
  /**
   * L2 bound on `update − global` relative to the global state: ‖update − global‖ ≤ this ·
   * max(‖global‖, 1). Absent means unbounded; the sample tasks set it.
   */
  maxRelativeUpdateNorm?: number;
  /**
   * How long a selected client that lost its connection may take to come back before the round
   * gives up on it (and closes early when minReplies is then out of reach).
   */
  reconnectGraceMs?: number;
  /**
   * Accept updates for a round up to `maxStaleness` rounds older than the open one instead of
   * refusing them (STALE): the update's change against the state its round started from is applied
   * to the open round's state and weighted by numExamples · discount^staleness. Absent: refuse.
   */
  staleUpdates?: { maxStaleness: number; discount: number };
}

export const DEFAULT_ROUNDS: Readonly<RoundOptions> = Object.freeze({
  fraction: 1,
  minClients: 1,
  maxClients: 100,
  minReplies: 1,
  graceMs: 5_000,
  roundTimeoutMs: 10 * 60_000,
  waitForClientsMs: 30_000,
  totalRounds: 10,
  reconnectGraceMs: 10_000,
});

/** Most examples one update may count (task.data.maxExamples) when the task does not say. */
export const DEFAULT_MAX_EXAMPLES = 100_000;

/** Connections one token may hold at once when the options do not say. */
export const DEFAULT_MAX_CONNECTIONS_PER_TOKEN = 64;

export interface BackboneSource {
  /** sha256 of model.safetensors (checked at start). */
  sha256: string;
  /** The text of config.json. */
  configJson: string;
  weightsPath: string;
}

/**
 * Evaluation of the global state after a round. `sparseDeltas`, when given, are the sparse updates
 * the strategy wants evaluated instead of S(κ(A, B)) of the state's factors (SNELL-exact's mean).
 */
export type EvaluateFn = (
  state: TensorMap,
  sparseDeltas?: Map<string, { shape: [number, number]; data: Float32Array }>,
) => Promise<Record<string, number>>;

export type MeasureGapsFn = (updates: ClientUpdate[], state: TensorMap) => Record<string, number>;

export interface CoordinatorOptions {
  port: number;
  host?: string;
  tokens: { client: string[]; admin: string };
  limits?: Partial<ProtocolLimits>;
  backbone: BackboneSource;
  /** The task without its backbone part, which the coordinator fills in from `backbone`. */
  task: Omit<Task, 'backbone'>;
  /** Global trainable state of round 0 (used only when stateDir holds no checkpoint). */
  initialState: TensorMap;
  strategy: Strategy;
  /** Scores the merged sparse model of a new global state (see EvaluateFn). */
  evaluate: EvaluateFn;
  /**
   * Aggregation gap per module for strategies that do not report one themselves (SNELL.md §5):
   * ‖S(κ(Ā, B̄)) − mean_k S(κ(A_k, B_k))‖ / ‖mean_k S(κ(A_k, B_k))‖.
   */
  measureGaps?: MeasureGapsFn;
  stateDir: string;
  /** The writes to stateDir (atomic files, journal appends); tests inject a failing disk. */
  stateWriter?: StateWriter;
  rounds?: Partial<RoundOptions>;
  clock?: Clock;
  /** Seeded uniform [0, 1) source for sampling and per-round seeds. */
  rng: () => number;
  /**
   * Random source of one round (sampling, the round's training seed, aggregation). When given, the
   * choices of round r depend only on r, so a coordinator resumed from a checkpoint makes the same
   * ones without persisting generator state.
   */
  roundRng?: (round: number) => () => number;
  logger?: Logger;
  /** Start the round loop at once (otherwise: POST /api/start or `start()`). */
  autoStart?: boolean;
  /** Also require a client token for the backbone files. */
  protectBackbone?: boolean;
  /** Per-device tokens (token → the one client id it may use), e.g. from `--tokens-file`. */
  clientTokens?: ReadonlyMap<string, string>;
  /** Connections one token may hold at once (default 64). */
  maxConnectionsPerToken?: number;
  /** Records of departed clients kept for `/api/clients` (the oldest are forgotten; default 1000). */
  maxDepartedClients?: number;
}

export function resolveRounds(partial: Partial<RoundOptions> = {}): RoundOptions {
  const r: RoundOptions = { ...DEFAULT_ROUNDS, ...partial };
  const where = 'createCoordinator()';
  if (!(r.fraction > 0 && r.fraction <= 1)) throw new Error(`rounds.fraction passed to ${where} must be in (0, 1] but got ${r.fraction}`);
  for (const key of ['minClients', 'maxClients', 'minReplies', 'totalRounds'] as const) {
    if (!Number.isSafeInteger(r[key]) || r[key] < 1) throw new Error(`rounds.${key} passed to ${where} must be a positive integer but got ${r[key]}`);
  }
  for (const key of ['graceMs', 'roundTimeoutMs', 'waitForClientsMs', 'reconnectGraceMs'] as const) {
    const value = r[key] ?? 0;
    if (!Number.isFinite(value) || value < 0) throw new Error(`rounds.${key} passed to ${where} must be a non-negative number of ms but got ${r[key]}`);
  }
  if (r.maxClients < r.minClients) throw new Error(`rounds.maxClients passed to ${where} must be at least minClients (${r.minClients}) but got ${r.maxClients}`);
  if (r.minReplies > r.maxClients) throw new Error(`rounds.minReplies passed to ${where} must be at most maxClients (${r.maxClients}) but got ${r.minReplies}`);
  if (r.staleUpdates !== undefined) {
    const { maxStaleness, discount } = r.staleUpdates;
    if (!Number.isSafeInteger(maxStaleness) || maxStaleness < 1) {
      throw new Error(`rounds.staleUpdates.maxStaleness passed to ${where} must be a positive integer but got ${maxStaleness}`);
    }
    if (!(discount > 0 && discount <= 1)) throw new Error(`rounds.staleUpdates.discount passed to ${where} must be in (0, 1] but got ${discount}`);
  }
  if (r.maxRelativeUpdateNorm !== undefined && !(r.maxRelativeUpdateNorm > 0 && Number.isFinite(r.maxRelativeUpdateNorm))) {
    throw new Error(`rounds.maxRelativeUpdateNorm passed to ${where} must be a positive number but got ${r.maxRelativeUpdateNorm}`);
  }
  if (r.maxUpdateNorm !== undefined && !(r.maxUpdateNorm > 0)) {
    throw new Error(`rounds.maxUpdateNorm passed to ${where} must be a positive number but got ${r.maxUpdateNorm}`);
  }
  return r;
}
