import { useBackend } from '@fedsnell/backends';
import type { TensorMap } from '@fedsnell/tensor-io';
import { aggregationGaps, exactSparseAverage } from './aggregation-gap';
import { fedAvg } from './fedavg';
import { context } from './fixtures.testing';
import { withNormClipping } from './norm-clipping';
import { snellExact } from './snell-exact';
import { inThreadSparseDeltas, type SparseDeltaEngine } from './sparse-deltas';
import { SNELL, snellClients } from './snell-testing';
import type { ClientUpdate, Strategy } from './types';

/** Clients with two adapted modules of different shapes (q 6×8, fc1 8×12) and a dense head.bias. */
function twoModuleClients(count: number): ClientUpdate[] {
  const q = snellClients(count, 0.5, 6, 8);
  const fc1 = snellClients(count, 0.7, 8, 12);
  return q.map((client, k) => {
    const state: TensorMap = new Map(client.state);
    state.set('blocks.1.mlp.fc1.snell_A', fc1[k].state.get('blocks.0.attn.q.snell_A') as { shape: number[]; data: Float32Array });
    state.set('blocks.1.mlp.fc1.snell_B', fc1[k].state.get('blocks.0.attn.q.snell_B') as { shape: number[]; data: Float32Array });
    return { ...client, numExamples: 3 + 5 * k, state };
  });
}

function streamed(strategy: Strategy, round: number, updates: readonly ClientUpdate[]) {
  const ctx = context({}, round);
  for (const update of updates) strategy.accept?.(ctx, update);
  return strategy.aggregate(ctx, [...updates]);
}

function expectClose(actual: Float32Array | undefined, expected: Float32Array | undefined, tolerance = 1e-6): void {
  expect(actual?.length).toBe(expected?.length);
  let worst = 0;
  expected?.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (actual?.[i] ?? NaN)))));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('snellExact streaming (accept per update)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('sums the exact sparse updates as they arrive: the same targets and gaps as the batch computation', async () => {
    const clients = twoModuleClients(5);

    const result = await streamed(snellExact({ snell: SNELL, refitSteps: 0 }), 1, clients);

    expect(result?.info?.['streamed']).toBe(1);
    const batchTargets = exactSparseAverage(clients, SNELL);
    const average = await fedAvg().aggregate(context({}), clients);
    const batchGaps = aggregationGaps(clients, average?.state ?? new Map(), SNELL, batchTargets);
    expect([...(result?.sparseDeltas?.keys() ?? [])]).toEqual([...batchTargets.keys()]);
    for (const [module, target] of batchTargets) expectClose(result?.sparseDeltas?.get(module)?.data, target.data);
    for (const [module, gap] of Object.entries(batchGaps)) expect(Math.abs((result?.gaps?.[module] ?? NaN) - gap)).toBeLessThanOrEqual(1e-6);
  });

  it('gives the state and gaps of the batch aggregation, re-fit included', async () => {
    const clients = twoModuleClients(4);

    const stream = await streamed(snellExact({ snell: SNELL, refitSteps: 20, refitLr: 1e-2 }), 3, clients);
    const batch = await snellExact({ snell: SNELL, refitSteps: 20, refitLr: 1e-2 }).aggregate(context({}, 3), clients);

    expect(stream?.info?.['streamed']).toBe(1);
    expect(batch?.info?.['streamed']).toBe(0);
    expect([...(stream?.state.keys() ?? [])]).toEqual([...(batch?.state.keys() ?? [])]);
    for (const [name, t] of batch?.state ?? []) expectClose(stream?.state.get(name)?.data, t.data);
    for (const [module, gap] of Object.entries(batch?.gaps ?? {})) expect(Math.abs((stream?.gaps?.[module] ?? NaN) - gap)).toBeLessThanOrEqual(1e-6);
  });

  it('sums again at close when aggregate gets other updates than the ones accepted', async () => {
    const clients = twoModuleClients(4);
    const strategy = snellExact({ snell: SNELL, refitSteps: 0 });
    const ctx = context({}, 2);
    for (const update of clients) strategy.accept?.(ctx, update);

    const result = await strategy.aggregate(ctx, clients.slice(1));

    expect(result?.info?.['streamed']).toBe(0);
    const targets = exactSparseAverage(clients.slice(1), SNELL);
    for (const [module, target] of targets) expectClose(result?.sparseDeltas?.get(module)?.data, target.data);
  });

  it('starts new sums for a new round', async () => {
    const first = twoModuleClients(3);
    const second = twoModuleClients(5).slice(2);
    const strategy = snellExact({ snell: SNELL, refitSteps: 0 });
    for (const update of first) strategy.accept?.(context({}, 4), update);

    const result = await streamed(strategy, 5, second);

    expect(result?.info?.['streamed']).toBe(1);
    for (const [module, target] of exactSparseAverage(second, SNELL)) expectClose(result?.sparseDeltas?.get(module)?.data, target.data);
  });

  it('an update it cannot use leaves the round to the batch path, which names the problem', async () => {
    const [a, b] = twoModuleClients(2);
    const odd: ClientUpdate = { ...b, state: new Map([...b.state].filter(([name]) => !name.startsWith('blocks.1.'))) };
    const strategy = snellExact({ snell: SNELL, refitSteps: 0 });

    await expect(streamed(strategy, 1, [a, odd])).rejects.toThrow(/tensor blocks\.1\.mlp\.fc1\.snell_A/);
  });

  it('an update whose dense tensors differ from the first update leaves the dense average to the batch path, which names the problem', async () => {
    const [a, b] = twoModuleClients(2);
    const odd: ClientUpdate = { ...b, state: new Map(b.state).set('head.bias', { shape: [2], data: new Float32Array([1, 2]) }) };
    const strategy = snellExact({ snell: SNELL, refitSteps: 0 });

    await expect(streamed(strategy, 1, [a, odd])).rejects.toThrow(/sent head\.bias with shape \[2\]/);
  });

  it('under norm clipping the inner strategy streams the clipped updates', async () => {
    const clients = twoModuleClients(3);
    const global = new Map(clients[0].state);
    const clipping = { maxNorm: 0.05 };
    const ctx = { ...context({}, 1), global };

    const strategy = withNormClipping(snellExact({ snell: SNELL, refitSteps: 0 }), clipping);
    for (const update of clients) strategy.accept?.(ctx, update);
    const stream = await strategy.aggregate(ctx, clients);
    const batch = await withNormClipping(snellExact({ snell: SNELL, refitSteps: 0 }), clipping).aggregate(ctx, clients);

    expect(stream?.info?.['streamed']).toBe(1);
    expect(Number(stream?.info?.['clipped'])).toBeGreaterThan(0);
    for (const [module, target] of batch?.sparseDeltas ?? []) expectClose(stream?.sparseDeltas?.get(module)?.data, target.data);
  });
});

describe('snellExact streaming on an engine that fails', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('a failed step while updates stream in (here the first clear) leaves the round to the batch path', async () => {
    const clients = twoModuleClients(3);
    const inner = inThreadSparseDeltas(SNELL);
    let clears = 0;
    const flaky: SparseDeltaEngine = { ...inner, clear: () => (clears++ === 0 ? Promise.reject(new Error('worker gone')) : inner.clear()) };

    const result = await streamed(snellExact({ snell: SNELL, refitSteps: 0, sparseDeltas: flaky }), 1, clients);

    expect(result?.info?.['streamed']).toBe(0);
    for (const [module, target] of exactSparseAverage(clients, SNELL)) expectClose(result?.sparseDeltas?.get(module)?.data, target.data);
  });
});
