/** Exponential back-off between reconnection attempts. */
export interface ReconnectOptions {
  /** delay before the first retry */
  initialMs: number;
  /** ceiling of the delay */
  maxMs: number;
  /** growth per failed attempt (≥ 1) */
  factor: number;
  /** fraction in [0, 1] of the delay drawn at random, so that many clients dropped at once do not return in lock-step */
  jitter: number;
}

export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = Object.freeze({ initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.5 });

/** Fills defaults and checks every field; throws naming the first bad one. */
export function resolveReconnect(partial: Partial<ReconnectOptions> = {}): ReconnectOptions {
  const r: ReconnectOptions = { ...DEFAULT_RECONNECT, ...partial };
  const bad = (field: keyof ReconnectOptions, rule: string) => {
    throw new RangeError(`reconnect.${field} passed to createClient() must be ${rule} but got ${r[field]}`);
  };
  if (!(Number.isFinite(r.initialMs) && r.initialMs >= 0)) bad('initialMs', 'a non-negative number');
  if (!(Number.isFinite(r.maxMs) && r.maxMs >= r.initialMs)) bad('maxMs', `a number ≥ initialMs (${r.initialMs})`);
  if (!(Number.isFinite(r.factor) && r.factor >= 1)) bad('factor', 'a number ≥ 1');
  if (!(r.jitter >= 0 && r.jitter <= 1)) bad('jitter', 'in [0, 1]');
  return r;
}

/**
 * Delay before retry number `attempt` (0-based): initialMs·factor^attempt capped at maxMs, of which
 * a `jitter` share is random (full-jitter on that share): delay·(1 − jitter·u) for u in [0, 1).
 */
export function reconnectDelay(attempt: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * Math.pow(options.factor, attempt));
  return Math.round(base * (1 - options.jitter * random()));
}
