import type { TensorMap } from '@fedsnell/tensor-io';

/** One client's reply to a round: its trained state and how many examples it trained on. */
export interface ClientUpdate {
  clientId: string;
  numExamples: number;
  state: TensorMap;
  metrics?: Record<string, number>;
}

export interface AggregationContext {
  round: number;
  /** The global state the clients started this round from. */
  global: TensorMap;
  /** Seeded; every random choice a strategy makes goes through it. */
  rng: () => number;
}

export interface AggregationResult {
  state: TensorMap;
  /** Per-module aggregation gap (SNELL-exact); absent for strategies that do not measure it. */
  gaps?: Record<string, number>;
  info?: Record<string, number | string>;
  /**
   * The sparse updates S per module ([in, out]) that the evaluated model applies, when they are not
   * S(κ(A, B)) of the returned factors: SNELL-exact returns the exact mean of the clients' S(ΔW_k).
   */
  sparseDeltas?: Map<string, { shape: [number, number]; data: Float32Array }>;
}

/** How many clients a round asks for: ceil(fraction · candidates), clamped to [minClients, maxClients]. */
export interface SamplingOptions {
  fraction: number;
  minClients: number;
  maxClients: number;
}

export interface RoundConfigContext {
  round: number;
  /** The global state the round will start from. */
  global: TensorMap;
  /** Clients joined and ready now, the ones that may be asked. */
  candidates: readonly string[];
  /** The task's sampling settings (`rounds.fraction`, `minClients`, `maxClients`). */
  sampling: SamplingOptions;
  /** The round's seeded generator: the same one `accept` and `aggregate` get afterwards. */
  rng: () => number;
}

/** One round as a strategy configures it: which clients train, and with which trainer settings. */
export interface RoundConfig {
  /** Ids among the candidates, each at most once. */
  clients: string[];
  /**
   * Trainer settings for this round only, layered over the task's trainer config by the clients
   * (RoundStart.overrides): e.g. `proximalMu`, `lr`, `epochs`.
   */
  overrides?: Record<string, number>;
}

/**
 * A strategy holds decisions only (no transport, no clock). `aggregate` resolving to null means
 * "keep the previous global"; strategies with memory (server optimizers) expose it for checkpoints.
 */
export interface Strategy {
  name: string;
  /**
   * Optional configure step (Flower's `configure_train`): which clients a round asks, with which
   * per-round trainer settings. Without it a round samples with `sampleRound` and sends no overrides.
   */
  configure?(ctx: RoundConfigContext): RoundConfig;
  /**
   * Optional per-update step: called once for every update the round accepts (also for updates
   * replayed from a journal after a restart), before `aggregate` gets them all. It lets a strategy
   * do per-client work as updates stream in; `aggregate` must give the same result with or without
   * these calls, for any list of updates it is given.
   */
  accept?(ctx: AggregationContext, update: ClientUpdate): void;
  aggregate(ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null>;
  serializeState?(): unknown;
  restoreState?(state: unknown): void;
  summary(): Record<string, unknown>;
}
