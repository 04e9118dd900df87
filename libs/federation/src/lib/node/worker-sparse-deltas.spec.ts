import { computeSparseDelta } from '@fedsnell/snell';
import { exactSparseAverage, moduleGap } from '../aggregation-gap';
import { context } from '../fixtures.testing';
import { snellExact } from '../snell-exact';
import { snellModules } from '../snell-modules';
import { SNELL, snellClients } from '../snell-testing';
import type { ClientUpdate } from '../types';
import { workerSparseDeltas } from './worker-sparse-deltas';

/** Three adapted modules of different sizes, so two workers each own some. */
function clients(count: number): ClientUpdate[] {
  const parts = [snellClients(count, 0.5, 6, 8), snellClients(count, 0.6, 8, 12), snellClients(count, 0.4, 12, 6)];
  return parts[0].map((client, k) => {
    const state = new Map(client.state);
    ['blocks.1.mlp.fc1', 'blocks.1.mlp.fc2'].forEach((module, m) => {
      state.set(`${module}.snell_A`, parts[m + 1][k].state.get('blocks.0.attn.q.snell_A') as { shape: number[]; data: Float32Array });
      state.set(`${module}.snell_B`, parts[m + 1][k].state.get('blocks.0.attn.q.snell_B') as { shape: number[]; data: Float32Array });
    });
    return { ...client, numExamples: 2 + 3 * k, state };
  });
}

// Real worker threads (tsx-loaded): each start costs a few seconds, so the cases share one engine.
describe('workerSparseDeltas', () => {
  let engine: Awaited<ReturnType<typeof workerSparseDeltas>>;

  beforeAll(async () => {
    engine = await workerSparseDeltas(SNELL, { workers: 2 });
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
  });

  beforeEach(async () => {
    await engine.clear();
  });

  const sumsOf = async (updates: readonly ClientUpdate[]) => {
    for (const u of updates) await engine.accumulate(snellModules('test', u.state), u.numExamples);
    return updates.reduce((a, u) => a + u.numExamples, 0);
  };

  it('sums weighted sparse updates to the float64 reference mean, in module order', async () => {
    const updates = clients(4);
    const total = await sumsOf(updates);

    const mean = await engine.take(total);

    const reference = exactSparseAverage(updates, SNELL);
    expect([...mean.keys()]).toEqual([...reference.keys()]);
    for (const [module, t] of reference) {
      const got = mean.get(module)?.data ?? new Float32Array();
      expect(Math.max(...t.data.map((v, i) => Math.abs(v - got[i])))).toBeLessThanOrEqual(1e-6);
    }
  });

  it('measures gaps where the sums are: moduleGap of S(κ(A, B)) against the mean take returns', async () => {
    const total = await sumsOf(clients(3));
    const modules = snellModules('test', clients(4)[3].state);

    const gaps = await engine.gaps(modules, total);
    const mean = await engine.take(total);

    expect(Object.keys(gaps)).toEqual([...modules.keys()]);
    for (const [module, { A, B }] of modules) {
      expect(gaps[module]).toBe(moduleGap(computeSparseDelta(A, B, SNELL).delta, mean.get(module)?.data ?? new Float32Array()));
      expect(gaps[module]).toBeGreaterThan(0);
    }
  });

  it('hands the means over in shared memory and measures later gaps against them: the same numbers', async () => {
    const total = await sumsOf(clients(3));
    const modules = snellModules('test', clients(4)[3].state);
    const before = await engine.gaps(modules, total);

    const mean = await engine.take(total);
    const after = await engine.gaps(modules, total);

    expect(after).toEqual(before);
    for (const t of mean.values()) expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('serves snellExact: a streamed round equals the in-thread batch aggregation', async () => {
    const updates = clients(5);
    const strategy = snellExact({ snell: SNELL, refitSteps: 0, sparseDeltas: engine });
    const ctx = context({}, 7);
    for (const u of updates) strategy.accept?.(ctx, u);

    const stream = await strategy.aggregate(ctx, updates);
    const batch = await snellExact({ snell: SNELL, refitSteps: 0 }).aggregate(ctx, updates);

    expect(stream?.info?.['streamed']).toBe(1);
    for (const [module, gap] of Object.entries(batch?.gaps ?? {})) expect(Math.abs((stream?.gaps?.[module] ?? NaN) - gap)).toBeLessThanOrEqual(1e-6);
  });

  it('a worker error rejects the call with its message and leaves the engine usable', async () => {
    const [one] = clients(1);
    const total = await sumsOf([one]);
    const bad = new Map(snellModules('test', one.state));
    const q = bad.get('blocks.0.attn.q');
    if (!q) throw new Error('fixture lacks blocks.0.attn.q');
    bad.set('blocks.0.attn.q', { A: { shape: [2, 5, 2], data: q.A.data }, B: q.B });

    await expect(engine.gaps(bad, total)).rejects.toThrow(/A passed to computeSparseDelta\(\) must have shape/);
    expect(await engine.gaps(snellModules('test', one.state), total)).toEqual({ 'blocks.0.attn.q': 0, 'blocks.1.mlp.fc1': 0, 'blocks.1.mlp.fc2': 0 });
  });

  it('refuses a worker count out of range', async () => {
    await expect(workerSparseDeltas(SNELL, { workers: 0 })).rejects.toThrow('workers passed to workerSparseDeltas() must be an integer in [1, 64] but got 0');
  });
});
