import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import { isPositiveFinite, requireOption } from './options';
import { exampleWeights, globalTensor, sameShape, sharedNames, weightedSum } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, Strategy } from './types';

export type FedOptVariant = 'fedadam' | 'fedyogi' | 'fedadagrad';

export interface FedOptOptions {
  /** Server learning rate η. */
  serverLr?: number;
  /** Momentum β1 ∈ [0, 1). */
  beta1?: number;
  /** Second-moment decay β2 ∈ [0, 1) (unused by FedAdagrad). */
  beta2?: number;
  /** Adaptivity τ > 0: bounds the step where the second moment is tiny. */
  tau?: number;
}

/** Defaults from Reddi et al. 2021 (β1 = 0.9, β2 = 0.99, τ = 1e-3; η = 1e-2 is within their best grid). */
const DEFAULTS: Required<FedOptOptions> = { serverLr: 1e-2, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

interface Moments {
  m: Float64Array;
  v: Float64Array;
  shape: number[];
}

/** Checkpoint form of the server optimizer: plain JSON (number arrays hold float64 exactly). */
export interface FedOptState {
  variant: FedOptVariant;
  steps: number;
  moments: Record<string, { shape: number[]; m: number[]; v: number[] }>;
}

export type FedOptStrategy = Strategy & {
  serializeState(): FedOptState;
  restoreState(state: unknown): void;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberArray(value: unknown, length: number): value is number[] {
  return Array.isArray(value) && value.length === length && value.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function parseMoments(label: string, name: string, entry: unknown): Moments {
  const shape = isRecord(entry) ? entry['shape'] : undefined;
  if (isRecord(entry) && Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const { m, v } = entry;
    if (isNumberArray(m, size) && isNumberArray(v, size)) {
      return { shape: [...shape], m: Float64Array.from(m), v: Float64Array.from(v) };
    }
  }
  throw new Error(`${label}: moments for ${name} must be {shape, m, v} with numel(shape) finite numbers in m and v`);
}

/**
 * Adaptive server optimizers of Reddi et al. 2021 ("Adaptive Federated Optimization", Algorithm 2).
 * The pseudo-gradient Δ = (example-weighted mean of client states) − global drives, per coordinate,
 *   m ← β1·m + (1−β1)·Δ
 *   v ← v + Δ²                              (FedAdagrad)
 *   v ← β2·v + (1−β2)·Δ²                    (FedAdam)
 *   v ← v − (1−β2)·Δ²·sign(v − Δ²)          (FedYogi)
 *   x ← x + η·m / (√v + τ)
 * with m = 0 and v = τ² at the start (the paper asks for v₋₁ ≥ τ²) and no bias correction, as in the
 * paper. Moments are float64 and keyed by tensor name; they survive checkpoints via serializeState.
 */
export function fedOpt(variant: FedOptVariant, options: FedOptOptions = {}): FedOptStrategy {
  const where = `${variant}()`;
  const config = { ...DEFAULTS, ...options };
  const { serverLr, beta1, beta2, tau } = config;
  requireOption(isPositiveFinite(serverLr), where, 'serverLr', 'be a finite number > 0', serverLr);
  requireOption(Number.isFinite(beta1) && beta1 >= 0 && beta1 < 1, where, 'beta1', 'be in [0, 1)', beta1);
  requireOption(Number.isFinite(beta2) && beta2 >= 0 && beta2 < 1, where, 'beta2', 'be in [0, 1)', beta2);
  requireOption(isPositiveFinite(tau), where, 'tau', 'be a finite number > 0', tau);

  let moments = new Map<string, Moments>();
  let steps = 0;

  // Checks every tensor before anything changes, so a bad call leaves the optimizer as it was.
  function check(label: string, global: TensorMap, average: TensorMap): void {
    for (const [name, mean] of average) {
      globalTensor(label, global, name, mean);
      const known = moments.get(name);
      if (known && !sameShape(known.shape, mean.shape)) {
        throw new Error(`${label}: optimizer state for ${name} has shape [${known.shape}] but clients sent [${mean.shape}]`);
      }
    }
  }

  function momentsFor(name: string, like: NamedTensor): Moments {
    let entry = moments.get(name);
    if (!entry) {
      const size = like.data.length;
      entry = { m: new Float64Array(size), v: new Float64Array(size).fill(tau * tau), shape: [...like.shape] };
      moments.set(name, entry);
    }
    return entry;
  }

  function step(global: TensorMap, average: TensorMap): TensorMap {
    const out: TensorMap = new Map();
    for (const [name, mean] of average) {
      const x = (global.get(name) as NamedTensor).data;
      const { m, v } = momentsFor(name, mean);
      const next = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const delta = mean.data[i] - x[i];
        const delta2 = delta * delta;
        m[i] = beta1 * m[i] + (1 - beta1) * delta;
        if (variant === 'fedadagrad') v[i] += delta2;
        else if (variant === 'fedadam') v[i] = beta2 * v[i] + (1 - beta2) * delta2;
        else v[i] -= (1 - beta2) * delta2 * Math.sign(v[i] - delta2);
        next[i] = x[i] + (serverLr * m[i]) / (Math.sqrt(v[i]) + tau);
      }
      out.set(name, { shape: [...mean.shape], data: next });
    }
    return out;
  }

  return {
    name: variant,
    async aggregate(ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      if (updates.length === 0) return null;
      const label = `${variant}.aggregate()`;
      const average = weightedSum(sharedNames(label, updates), updates, exampleWeights(label, updates));
      check(label, ctx.global, average);
      const state = step(ctx.global, average);
      steps += 1;
      return { state, info: { clients: updates.length, serverSteps: steps } };
    },
    serializeState(): FedOptState {
      const out: FedOptState['moments'] = {};
      for (const [name, { m, v, shape }] of moments) out[name] = { shape: [...shape], m: [...m], v: [...v] };
      return { variant, steps, moments: out };
    },
    restoreState(state: unknown): void {
      const label = `${variant}.restoreState()`;
      const savedSteps = isRecord(state) ? state['steps'] : undefined;
      const entries = isRecord(state) ? state['moments'] : undefined;
      if (!isRecord(state) || state['variant'] !== variant || !Number.isSafeInteger(savedSteps) || !isRecord(entries)) {
        throw new Error(`${label}: expected {variant: '${variant}', steps, moments} but got ${String(JSON.stringify(state)).slice(0, 80)}`);
      }
      const restored = new Map<string, Moments>();
      for (const [name, entry] of Object.entries(entries)) restored.set(name, parseMoments(label, name, entry));
      moments = restored;
      steps = savedSteps as number;
    },
    summary: () => ({ name: variant, weighting: 'numExamples', ...config, initialVariance: tau * tau }),
  };
}

export const fedAdam = (options?: FedOptOptions): FedOptStrategy => fedOpt('fedadam', options);
export const fedYogi = (options?: FedOptOptions): FedOptStrategy => fedOpt('fedyogi', options);
export const fedAdagrad = (options?: FedOptOptions): FedOptStrategy => fedOpt('fedadagrad', options);
