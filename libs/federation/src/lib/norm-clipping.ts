import type { TensorMap } from '@fedsnell/tensor-io';
import { isPositiveFinite, requireOption } from './options';
import { globalTensor } from './tensor-ops';
import type { AggregationContext, AggregationResult, ClientUpdate, RoundConfigContext, Strategy } from './types';

export interface NormClippingOptions {
  /** Bound on the L2 norm of a client's whole update `state − global` (all tensors together). */
  maxNorm: number;
  /** 'clip' scales an over-long update onto the bound; 'reject' drops that client. Default 'clip'. */
  onExceed?: 'clip' | 'reject';
}

/** L2 norm of `state − global` over every tensor the client sent. */
export function updateNorm(update: ClientUpdate, global: TensorMap, where = 'updateNorm()'): number {
  let sum = 0;
  for (const [name, tensor] of update.state) {
    const base = globalTensor(where, global, name, tensor).data;
    for (let i = 0; i < base.length; i++) {
      const d = tensor.data[i] - base[i];
      sum += d * d;
    }
  }
  return Math.sqrt(sum);
}

function scaledToward(update: ClientUpdate, global: TensorMap, factor: number): ClientUpdate {
  const state: TensorMap = new Map();
  for (const [name, tensor] of update.state) {
    const base = (global.get(name) as { data: Float32Array }).data;
    const data = new Float32Array(base.length);
    for (let i = 0; i < data.length; i++) data[i] = base[i] + factor * (tensor.data[i] - base[i]);
    state.set(name, { shape: [...tensor.shape], data });
  }
  return { ...update, state };
}

/**
 * Wraps any strategy so each client's update `state − global` is bounded in L2 norm before it is
 * aggregated (as in DP-FedAvg and robust FL): either scaled onto the bound or the client dropped.
 * If every client is dropped the result is null (keep the previous global).
 */
export function withNormClipping(inner: Strategy, options: NormClippingOptions): Strategy {
  const { maxNorm } = options;
  const onExceed = options.onExceed ?? 'clip';
  requireOption(isPositiveFinite(maxNorm), 'withNormClipping()', 'maxNorm', 'be a finite number > 0', maxNorm);
  requireOption(onExceed === 'clip' || onExceed === 'reject', 'withNormClipping()', 'onExceed', "be 'clip' or 'reject'", onExceed);
  const name = `${inner.name}+${onExceed === 'clip' ? 'clip' : 'norm-reject'}`;
  const where = `${name}.aggregate()`;

  const wrapped: Strategy = {
    name,
    async aggregate(ctx: AggregationContext, updates: ClientUpdate[]): Promise<AggregationResult | null> {
      const kept: ClientUpdate[] = [];
      const rejected: string[] = [];
      let clipped = 0;
      let largest = 0;
      for (const update of updates) {
        const norm = updateNorm(update, ctx.global, where);
        largest = Math.max(largest, norm);
        if (norm <= maxNorm) kept.push(update);
        else if (onExceed === 'reject') rejected.push(update.clientId);
        else {
          kept.push(scaledToward(update, ctx.global, maxNorm / norm));
          clipped += 1;
        }
      }
      if (kept.length === 0) return null;
      const result = await inner.aggregate(ctx, kept);
      if (!result) return null;
      const info: Record<string, number | string> = { ...result.info, clipped, rejected: rejected.length, largestUpdateNorm: largest, maxNorm };
      if (rejected.length > 0) info['rejectedClients'] = rejected.join(',');
      return { ...result, info };
    },
    summary: () => ({ ...inner.summary(), name, maxNorm, onExceed }),
  };
  if (inner.accept) {
    // the inner strategy sees each update as aggregate will pass it: clipped, or not at all
    wrapped.accept = (ctx: AggregationContext, update: ClientUpdate) => {
      const norm = updateNorm(update, ctx.global, `${name}.accept()`);
      if (norm <= maxNorm) inner.accept?.(ctx, update);
      else if (onExceed === 'clip') inner.accept?.(ctx, scaledToward(update, ctx.global, maxNorm / norm));
    };
  }
  // the inner strategy still chooses the round's clients and settings
  const configure = inner.configure;
  if (configure) wrapped.configure = (ctx: RoundConfigContext) => configure.call(inner, ctx);
  // Delegated only when the inner strategy has state, so callers can still test for their presence.
  if (inner.serializeState) wrapped.serializeState = () => inner.serializeState?.();
  if (inner.restoreState) wrapped.restoreState = (state: unknown) => inner.restoreState?.(state);
  return wrapped;
}
