import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkAssembler, decodePayload, encodePayload, encodeTensor, parseRoundStart, sendTransfer, splitTransfer, type RoundStart } from '@fedsnell/protocol';
import { parseSafetensors } from '@fedsnell/tensor-io';
import type { Coordinator } from './coordinator';
import {
  connected,
  coordinatorOptions,
  fakeClient,
  joinedClient,
  makeStateDir,
  nextRoundEnd,
  readyFor,
  startCoordinator,
  updateFor,
  waitFor,
  type FakeClient,
} from './coordinator.testing';
import type { CoordinatorOptions } from './options';

describe('coordinator rounds', () => {
  let coordinator: Coordinator;
  let dir: Awaited<ReturnType<typeof makeStateDir>>;
  const clients: FakeClient[] = [];

  async function start(over: Partial<CoordinatorOptions> = {}) {
    coordinator = await startCoordinator(coordinatorOptions(dir.dir, dir.weightsPath, { autoStart: true, ...over }));
  }

  async function selectedClient(clientId = 'c-1'): Promise<{ client: FakeClient; round: RoundStart }> {
    const joined = await joinedClient(coordinator, clientId);
    clients.push(joined.client);
    const round = await waitFor(() => joined.starts[0]);
    return { client: joined.client, round };
  }

  beforeEach(async () => {
    dir = await makeStateDir();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    await coordinator.close();
    await dir.cleanup();
  });

  it('runs a round: announce, update, aggregate, report', async () => {
    await start();
    const { client, round } = await selectedClient();
    const ended = nextRoundEnd(client);
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, 2));
    expect(ack).toEqual({ ok: true });
    expect(await ended).toEqual({ taskId: 'task-1', round: 0, status: 'aggregated', updates: 1, metrics: { accuracy: 0.5, loss: 2 } });
  });

  it('checkpoints before announcing and after aggregating', async () => {
    await start();
    const { client, round } = await selectedClient();
    expect(await readdir(join(dir.dir, 'state'))).toContain('round-000000.safetensors');
    const ended = nextRoundEnd(client);
    await client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    await ended;
    expect(await readdir(join(dir.dir, 'state'))).toEqual(expect.arrayContaining(['round-000001.safetensors', 'rounds.json']));
  });

  it('refuses a wrong shape and keeps the round open', async () => {
    await start();
    const { client, round } = await selectedClient();
    const bad = updateFor(round, 1, { tensors: [encodeTensor('blocks.0.attn.q.snell_A', [2, 2], new Float32Array(4)), updateFor(round).tensors[1]] });
    const ack = await client.timeout(3000).emitWithAck('update', bad);
    expect(ack).toEqual({
      ok: false,
      error: { code: 'TENSOR_SHAPE', message: 'client c-1 sent blocks.0.attn.q.snell_A with shape [2,2], expected [1,2,2]; update dropped' },
    });
    expect(await client.timeout(3000).emitWithAck('update', updateFor(round, 1))).toEqual({ ok: true });
    expect(coordinator.metrics.get('updates_rejected_total', { code: 'TENSOR_SHAPE' })).toBe(1);
  });

  it('changes nothing on bad input: after refused updates the round aggregates only the good one', async () => {
    await start({ rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 5000, waitForClientsMs: 50, totalRounds: 1, maxUpdateNorm: 10 } });
    const { client, round } = await selectedClient();
    const [first, second] = updateFor(round, 1).tensors;
    const bad = [
      updateFor(round, NaN),
      updateFor(round, Infinity),
      updateFor(round, 100), // norm bound
      updateFor(round, 1, { tensors: [first] }), // missing tensor
      updateFor(round, 1, { tensors: [first, second, encodeTensor('blocks.9.attn.q.snell_A', [1], new Float32Array(1))] }),
      updateFor(round, 1, { tensors: [encodeTensor(first.name, [first.shape.reduce((a, b) => a * b, 1)], new Float32Array(first.shape.reduce((a, b) => a * b, 1))), second] }),
      updateFor(round, 1, { round: 7 }),
      updateFor(round, 1, { taskId: 'another-task' }),
      updateFor(round, 1, { numExamples: -3 }),
    ];
    for (const update of bad) expect((await client.timeout(3000).emitWithAck('update', update)).ok).toBe(false);
    const ended = nextRoundEnd(client);
    expect(await client.timeout(3000).emitWithAck('update', updateFor(round, 2))).toEqual({ ok: true });
    expect(await ended).toEqual(expect.objectContaining({ status: 'aggregated', updates: 1 }));
    // the global state handed out next is exactly the one good update (+2 everywhere)
    const res = await fetch(`${coordinator.url}/api/adapter`, { headers: { Authorization: 'Bearer admin-token' } });
    const global = parseSafetensors(new Uint8Array(await res.arrayBuffer())).tensors;
    for (const t of round.state) {
      const start = new Float32Array(t.data.slice().buffer);
      expect(Array.from(global.get(t.name)?.data ?? [])).toEqual(Array.from(start, (v) => v + 2));
    }
    expect(coordinator.metrics.get('updates_accepted_total')).toBe(1);
  });

  it('refuses NaN', async () => {
    await start();
    const { client, round } = await selectedClient();
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, NaN));
    expect(!ack.ok && ack.error.code).toBe('NON_FINITE');
  });

  it('refuses an update beyond the norm bound', async () => {
    await start({ rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 1, maxUpdateNorm: 1 } });
    const { client, round } = await selectedClient();
    // six values each moved by 1: norm √6 ≈ 2.449
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect(ack).toEqual({ ok: false, error: { code: 'NORM_BOUND', message: 'client c-1 sent an update of L2 norm 2.449, at most 1 allowed; update dropped' } });
  });

  it('refuses an update over maxUpdateBytes', async () => {
    await start({ limits: { maxUpdateBytes: 16 } });
    const { client, round } = await selectedClient();
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect(!ack.ok && ack.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a wrong round', async () => {
    await start();
    const { client, round } = await selectedClient();
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, 1, { round: 5 }));
    expect(ack).toEqual({ ok: false, error: { code: 'WRONG_ROUND', message: 'update.round must be a round that has started (latest: 0) but got 5' } });
  });

  it('refuses a duplicate', async () => {
    await start({ rounds: { minClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 1 } });
    const first = await joinedClient(coordinator, 'c-1');
    const second = await joinedClient(coordinator, 'c-2');
    clients.push(first.client, second.client);
    const round = await waitFor(() => first.starts[0]);
    await first.client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    const ack = await first.client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect(ack).toEqual({ ok: false, error: { code: 'DUPLICATE', message: 'client c-1 already sent its update for round 0' } });
  });

  it('refuses an unselected client', async () => {
    await start({ rounds: { minClients: 1, maxClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 1 } });
    const { round } = await selectedClient('c-1');
    const other = await joinedClient(coordinator, 'c-2');
    clients.push(other.client);
    const ack = await other.client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect(!ack.ok && ack.error.code).toBe('NOT_SELECTED');
  });

  it('refuses a late update', async () => {
    await start({ rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 100, waitForClientsMs: 50, totalRounds: 1 } });
    const joined = await joinedClient(coordinator, 'c-1');
    clients.push(joined.client);
    const round = await waitFor(() => joined.starts[0]);
    const end = await waitFor(() => joined.ends[0]);
    const client = joined.client;
    const ack = await client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect([end.status, !ack.ok && ack.error.code]).toEqual(['kept', 'LATE']);
  });

  it('refuses a stale update', async () => {
    await start({ rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 2 } });
    const joined = await joinedClient(coordinator, 'c-1');
    clients.push(joined.client);
    const first = await waitFor(() => joined.starts[0]);
    await joined.client.timeout(3000).emitWithAck('update', updateFor(first, 1));
    await waitFor(() => joined.starts[1]);
    const ack = await joined.client.timeout(3000).emitWithAck('update', updateFor(first, 1));
    expect(!ack.ok && ack.error.code).toBe('STALE');
  });

  it('folds a stale update into the open round, discounted, when configured', async () => {
    const rounds = { minClients: 2, maxClients: 2, minReplies: 1, graceMs: 0, roundTimeoutMs: 5000, waitForClientsMs: 50, totalRounds: 2, staleUpdates: { maxStaleness: 2, discount: 0.5 } };
    await start({ rounds });
    const first = await joinedClient(coordinator, 'c-1');
    const second = await joinedClient(coordinator, 'c-2');
    clients.push(first.client, second.client);
    const round0 = await waitFor(() => first.starts[0]);
    // c-1 closes round 0 alone (+1 everywhere); c-2 is still "training" round 0
    await first.client.timeout(3000).emitWithAck('update', updateFor(round0, 1));
    const round1 = await waitFor(() => first.starts[1]);
    // c-2's round-0 update (+3 against round 0's start) arrives during round 1: one round stale
    expect(await second.client.timeout(3000).emitWithAck('update', updateFor(round0, 3))).toEqual({ ok: true });
    expect(await second.client.timeout(3000).emitWithAck('update', updateFor(round0, 3))).toEqual({
      ok: false,
      error: { code: 'DUPLICATE', message: 'client c-2 already sent its update for round 0' },
    });
    const ended = nextRoundEnd(first.client);
    await first.client.timeout(3000).emitWithAck('update', updateFor(round1, 1));
    expect(await ended).toEqual(expect.objectContaining({ round: 1, status: 'aggregated', updates: 2 }));
    // FedAvg of c-1 (G0+2, weight 4) and c-2 moved to round 1's frame (G1+3 = G0+4, weight 4·0.5):
    // G0 + (4·2 + 2·4)/6 = G0 + 8/3
    const res = await fetch(`${coordinator.url}/api/adapter`, { headers: { Authorization: 'Bearer admin-token' } });
    const global = parseSafetensors(new Uint8Array(await res.arrayBuffer())).tensors;
    for (const t of round0.state) {
      const g0 = new Float32Array(t.data.slice().buffer);
      const got = Array.from(global.get(t.name)?.data ?? []);
      got.forEach((v, i) => expect(v).toBeCloseTo(g0[i] + 8 / 3, 5));
    }
  });

  it('accepts a chunked update', async () => {
    await start({ limits: { maxMessageBytes: 8192, chunkBytes: 4096, maxPacketBytes: 1_000_000 } });
    const { client, round } = await selectedClient();
    const chunks = await splitTransfer('update', encodePayload(updateFor(round, 1)), { chunkBytes: 64 });
    const ack = await sendTransfer(chunks, (chunk) => client.timeout(3000).emitWithAck('chunk', chunk));
    expect([ack, chunks.length > 2]).toEqual([{ ok: true }, true]);
  });

  it('keeps the state when aggregation fails', async () => {
    const failing = { name: 'failing', aggregate: async () => Promise.reject(new Error('boom')), summary: () => ({}) };
    await start({ strategy: failing });
    const { client, round } = await selectedClient();
    const ended = nextRoundEnd(client);
    await client.timeout(3000).emitWithAck('update', updateFor(round, 1));
    expect((await ended).status).toBe('failed');
  });

  it('sends a large round:start in chunks', async () => {
    const big = new Map([['head.weight', { shape: [3000], data: Float32Array.from({ length: 3000 }, (_, i) => i) }]]);
    await start({ initialState: big, limits: { maxMessageBytes: 8192, chunkBytes: 4096 } });
    const client = fakeClient(coordinator, { token: 'client-token', clientId: 'c-1' });
    clients.push(client);
    const assembler = new ChunkAssembler({ maxTotalBytes: 1e6, maxChunkBytes: 4096, maxConcurrentTransfers: 1, timeoutMs: 3000 });
    const starts: RoundStart[] = [];
    client.on('chunk', async (chunk, ack) => {
      const result = await assembler.add(chunk);
      if (result.ok && result.done) {
        const parsed = parseRoundStart(decodePayload(result.bytes));
        if (parsed.ok) starts.push(parsed.value);
      }
      ack(result.ok ? { ok: true } : { ok: false, error: result.error });
    });
    await connected(client);
    await client.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' }, ready: readyFor(coordinator) });
    const round = await waitFor(() => starts[0]);
    expect(new Float32Array(round.state[0].data.slice().buffer)[2999]).toBe(2999);
  });

  it('carries the aggregated state into the next round', async () => {
    await start({ rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 2 } });
    const joined = await joinedClient(coordinator, 'c-1');
    clients.push(joined.client);
    await joined.client.timeout(3000).emitWithAck('update', updateFor(await waitFor(() => joined.starts[0]), 3));
    const second = await waitFor(() => joined.starts[1]);
    expect(Array.from(new Float32Array(second.state[1].data.slice().buffer))).toEqual([3, 3]);
  });
});
