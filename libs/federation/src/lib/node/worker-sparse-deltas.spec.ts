import { computeSparseDelta } from '@fedsnell/snell';
import { exactSparseAverage } from '../aggregation-gap';
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

  it('sums weighted sparse updates to the float64 reference mean, in module order', async () => {
    const updates = clients(4);
    for (const u of updates) await engine.accumulate(snellModules('test', u.state), u.numExamples);

    const mean = await engine.take(updates.reduce((a, u) => a + u.numExamples, 0));

    const reference = exactSparseAverage(updates, SNELL);
    expect([...mean.keys()]).toEqual([...reference.keys()]);
    for (const [module, t] of reference) {
      const got = mean.get(module)?.data ?? new Float32Array();
      expect(Math.max(...t.data.map((v, i) => Math.abs(v - got[i])))).toBeLessThanOrEqual(1e-6);
    }
  });

  it('computes S(κ(A, B)) equal to computeSparseDelta', async () => {
    const modules = snellModules('test', clients(1)[0].state);

    const sparse = await engine.sparse(modules);

    for (const [module, { A, B }] of modules) expect(sparse.get(module)?.data).toEqual(computeSparseDelta(A, B, SNELL).delta);
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
    const bad = new Map(snellModules('test', one.state));
    const q = bad.get('blocks.0.attn.q');
    if (!q) throw new Error('fixture lacks blocks.0.attn.q');
    bad.set('blocks.0.attn.q', { A: { shape: [2, 5, 2], data: q.A.data }, B: q.B });

    await expect(engine.sparse(bad)).rejects.toThrow(/A passed to computeSparseDelta\(\) must have shape/);
    expect((await engine.sparse(snellModules('test', one.state))).size).toBe(3);
  });

  it('refuses a worker count out of range', async () => {
    await expect(workerSparseDeltas(SNELL, { workers: 0 })).rejects.toThrow('workers passed to workerSparseDeltas() must be an integer in [1, 64] but got 0');
  });
});
