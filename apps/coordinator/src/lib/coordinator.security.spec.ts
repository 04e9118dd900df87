import type { Socket } from 'socket.io-client';
import type { Chunk, RoundStart, TaskFinished } from '@fedsnell/protocol';
import type { Strategy } from '@fedsnell/federation';
import type { Coordinator } from './coordinator';
import {
  ADMIN_TOKEN,
  CLIENT_TOKEN,
  connected,
  coordinatorOptions,
  fakeClient,
  joinedClient,
  makeStateDir,
  nextRoundEnd,
  rawClient,
  readyFor,
  startCoordinator,
  updateFor,
  waitFor,
  type FakeClient,
} from './coordinator.testing';
import type { RoundRecord } from './history';
import { streamLogger } from './logger';
import type { CoordinatorOptions } from './options';

const OTHER_TOKEN = 'other-client-token';
const refusal = async (client: FakeClient | Socket) => (await connected(client).catch((e: unknown) => e)) as { data?: { code: string; message: string } };

describe('coordinator: identities, poisoning bounds and bounded resources', () => {
  let coordinator: Coordinator | null = null;
  let dir: Awaited<ReturnType<typeof makeStateDir>>;
  const clients: (FakeClient | Socket)[] = [];
  const track = <C extends FakeClient | Socket>(client: C) => (clients.push(client), client);

  async function start(over: Partial<CoordinatorOptions> = {}): Promise<Coordinator> {
    coordinator = await startCoordinator(
      coordinatorOptions(dir.dir, dir.weightsPath, { tokens: { client: [CLIENT_TOKEN, OTHER_TOKEN], admin: ADMIN_TOKEN }, ...over }),
    );
    return coordinator;
  }

  async function rounds(c: Coordinator): Promise<RoundRecord[]> {
    const res = await fetch(`${c.url}/api/rounds`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    return ((await res.json()) as { rounds: RoundRecord[] }).rounds;
  }

  beforeEach(async () => {
    dir = await makeStateDir();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    await coordinator?.close();
    coordinator = null;
    await dir.cleanup();
  });

  describe('identity', () => {
    it('refuses another token claiming a bound id, and the victim stays connected', async () => {
      const c = await start();
      const victim = await joinedClient(c, 'victim');
      track(victim.client);
      const attacker = track(fakeClient(c, { token: OTHER_TOKEN, clientId: 'victim' }));
      expect((await refusal(attacker)).data).toEqual({ code: 'UNAUTHORIZED', message: 'client id victim is bound to another token' });
      expect(victim.client.connected).toBe(true);
      expect(c.status().clients).toEqual({ connected: 1, joined: 1 });
    });

    it('lets the same token reconnect as its id (the older connection is dropped)', async () => {
      const c = await start();
      const first = await joinedClient(c, 'c-1');
      track(first.client);
      const gone = new Promise((resolve) => first.client.once('disconnect', resolve));
      const second = await joinedClient(c, 'c-1');
      track(second.client);
      expect(second.ack.ok).toBe(true);
      await gone;
    });

    it('keeps bindings across a restart', async () => {
      let c = await start();
      const victim = await joinedClient(c, 'victim');
      victim.client.disconnect();
      await c.close();
      c = await start();
      const attacker = track(fakeClient(c, { token: OTHER_TOKEN, clientId: 'victim' }));
      expect((await refusal(attacker)).data?.code).toBe('UNAUTHORIZED');
    });

    it('gives a per-device token its own id and nothing else', async () => {
      const c = await start({ clientTokens: new Map([['device-token-1', 'device-1']]) });
      const device = track(fakeClient(c, { token: 'device-token-1' }));
      await connected(device);
      const ack = await device.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
      expect(ack.ok && ack.clientId).toBe('device-1');
      const other = track(fakeClient(c, { token: 'device-token-1', clientId: 'device-2' }));
      expect((await refusal(other)).data?.message).toBe('auth.clientId must be the id of this token (device-1) but got device-2');
      const shared = track(fakeClient(c, { token: CLIENT_TOKEN, clientId: 'device-1' }));
      expect((await refusal(shared)).data?.code).toBe('UNAUTHORIZED');
    });

    it('limits the connections one token holds', async () => {
      const c = await start({ maxConnectionsPerToken: 3 });
      const held = [1, 2, 3].map(() => track(fakeClient(c)));
      await Promise.all(held.map(connected));
      const fourth = track(fakeClient(c));
      expect((await refusal(fourth)).data?.code).toBe('TOO_MANY_CONNECTIONS');
      // another token is not affected, and a freed slot can be used again
      await connected(track(fakeClient(c, { token: OTHER_TOKEN })));
      held[0].disconnect();
      await waitFor(() => (c.status().clients.connected === 3 ? true : undefined));
      await connected(track(fakeClient(c)));
    });

    it('refuses a missing auth map or token as UNAUTHORIZED', async () => {
      const c = await start();
      expect((await refusal(track(fakeClient(c, {})))).data?.code).toBe('UNAUTHORIZED');
    });
  });

  describe('readiness and hanging rounds', () => {
    it('samples only ready clients', async () => {
      const c = await start({ autoStart: true });
      const waiting = track(fakeClient(c, { token: CLIENT_TOKEN, clientId: 'late' }));
      const starts: RoundStart[] = [];
      waiting.on('round:start', (s) => starts.push(s));
      await connected(waiting);
      await waiting.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([starts.length, c.status().round]).toEqual([0, null]);
      const wrong = await waiting.timeout(3000).emitWithAck('ready', { ...readyFor(c), backbone: 'f'.repeat(64) });
      expect(!wrong.ok && wrong.error.code).toBe('WRONG_TASK');
      expect(await waiting.timeout(3000).emitWithAck('ready', readyFor(c))).toEqual({ ok: true });
      await waitFor(() => starts[0]);
    });

    it('closes a round early when a selected client reports it cannot train', async () => {
      const c = await start({ autoStart: true, rounds: { minClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 60_000, waitForClientsMs: 50, totalRounds: 1 } });
      const a = await joinedClient(c, 'a');
      const b = await joinedClient(c, 'b');
      track(a.client);
      track(b.client);
      const announced = await waitFor(() => a.starts[0]);
      const ended = nextRoundEnd(a.client);
      expect(await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1))).toEqual({ ok: true });
      const failed = { taskId: announced.taskId, round: announced.round, reason: 'DATA', message: 'no decodable image in class a' } as const;
      expect(await b.client.timeout(3000).emitWithAck('round:failed', failed)).toEqual({ ok: true });
      expect(await ended).toEqual(expect.objectContaining({ status: 'kept', updates: 1 }));
      expect((await rounds(c))[0]).toEqual(expect.objectContaining({ failed: 1 }));
      expect(c.metrics.get('round_failures_total', { reason: 'DATA' })).toBe(1);
    });

    it('closes a round early when a selected client disconnects and minReplies is out of reach', async () => {
      const c = await start({ autoStart: true, rounds: { minClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 60_000, waitForClientsMs: 50, totalRounds: 1, reconnectGraceMs: 0 } });
      const a = await joinedClient(c, 'a');
      const b = await joinedClient(c, 'b');
      track(a.client);
      await waitFor(() => a.starts[0]);
      const ended = nextRoundEnd(a.client);
      b.client.disconnect();
      expect(await ended).toEqual(expect.objectContaining({ status: 'kept', updates: 0 }));
    });
  });

  it('stops waiting for a selected client that left once its reconnect grace is over', async () => {
    const c = await start({
      autoStart: true,
      rounds: { minClients: 3, minReplies: 2, graceMs: 60_000, roundTimeoutMs: 60_000, waitForClientsMs: 50, totalRounds: 1, reconnectGraceMs: 300 },
    });
    const [a, b, gone] = [await joinedClient(c, 'a'), await joinedClient(c, 'b'), await joinedClient(c, 'gone')];
    track(a.client);
    track(b.client);
    const announced = await waitFor(() => a.starts[0]);
    const ended = nextRoundEnd(a.client);
    gone.client.disconnect();
    // the others answer only after the grace is over
    await new Promise((resolve) => setTimeout(resolve, 600));
    await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1));
    await b.client.timeout(3000).emitWithAck('update', updateFor(announced, 1));
    expect(await ended).toEqual(expect.objectContaining({ status: 'aggregated', updates: 2 }));
  });

  describe('poisoning bounds', () => {
    it('refuses an update counting more examples than the task allows', async () => {
      const c = await start({ autoStart: true });
      expect(c.task.data.maxExamples).toBe(100_000);
      const a = await joinedClient(c, 'a');
      track(a.client);
      const announced = await waitFor(() => a.starts[0]);
      const ack = await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1, { numExamples: 1e6 }));
      expect(ack).toEqual({
        ok: false,
        error: { code: 'MALFORMED', message: 'client a sent numExamples 1000000, at most task.data.maxExamples (100000) allowed; update dropped' },
      });
    });

    it('refuses an update far from the global state with a relative norm bound', async () => {
      const c = await start({ autoStart: true, rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 1, maxRelativeUpdateNorm: 5 } });
      const a = await joinedClient(c, 'a');
      track(a.client);
      const announced = await waitFor(() => a.starts[0]);
      // the state is zero (norm floor 1): six values moved by 25 is a norm of 61
      const ack = await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 25));
      expect(!ack.ok && ack.error.code).toBe('NORM_BOUND');
      expect(await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1))).toEqual({ ok: true });
    });

    it('refuses a non-finite aggregate, keeps the previous state and records why', async () => {
      const poisoned: Strategy = {
        name: 'overflowing',
        aggregate: async (ctx) => ({ state: new Map([...ctx.global].map(([name, t]) => [name, { shape: t.shape, data: t.data.map(() => Infinity) }])) }),
        summary: () => ({}),
      };
      const c = await start({
        autoStart: true,
        strategy: poisoned,
        rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 2 },
      });
      const a = await joinedClient(c, 'a');
      track(a.client);
      const first = await waitFor(() => a.starts[0]);
      const ended = nextRoundEnd(a.client);
      await a.client.timeout(3000).emitWithAck('update', updateFor(first, 1));
      expect((await ended).status).toBe('failed');
      const second = await waitFor(() => a.starts[1]);
      expect(second.state.map((t) => Array.from(t.data))).toEqual(first.state.map((t) => Array.from(t.data)));
      expect((await rounds(c))[0].reason).toBe('aggregate is non-finite (blocks.0.attn.q.snell_A[0]=Infinity); previous global state kept');
      expect(c.metrics.get('rounds_refused_total')).toBe(1);
    });
  });

  describe('task finished', () => {
    it('tells joined and later clients, and says so in status', async () => {
      const c = await start({ autoStart: true });
      const a = await joinedClient(c, 'a');
      track(a.client);
      const summaries: TaskFinished[] = [];
      a.client.on('task:finished', (s) => summaries.push(s));
      const announced = await waitFor(() => a.starts[0]);
      await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1));
      const summary = await c.finished;
      expect(summary).toEqual({ taskId: 'task-1', roundsCompleted: 1, lastRound: 0, metrics: { accuracy: 0.5, loss: 1 } });
      await waitFor(() => summaries[0]);
      expect(c.status()).toEqual(expect.objectContaining({ state: 'finished', finished: summary }));
      const late = track(fakeClient(c, { token: CLIENT_TOKEN, clientId: 'late' }));
      const told = new Promise<TaskFinished>((resolve) => late.once('task:finished', resolve));
      await connected(late);
      await late.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
      expect(await told).toEqual(summary);
    });
  });

  describe('closing', () => {
    it('flushes task:finished and round:end to clients when it closes right after the last round', async () => {
      const c = await start({ autoStart: true });
      const a = await joinedClient(c, 'a');
      const got: string[] = [];
      a.client.on('task:finished', () => got.push('task:finished'));
      a.client.on('round:end', () => got.push('round:end'));
      a.client.on('disconnect', (reason) => got.push(reason));
      const announced = await waitFor(() => a.starts[0]);
      await a.client.timeout(3000).emitWithAck('update', updateFor(announced, 1));
      await c.finished.then(() => c.close());
      coordinator = null;
      await waitFor(() => (got.length === 3 ? true : undefined));
      expect(got).toEqual(['round:end', 'task:finished', 'io server disconnect']);
    });
  });

  describe('bounded resources', () => {
    const chunk = (transferId: string, index: number, over: Partial<Chunk> = {}): Chunk => ({
      transferId,
      event: 'update',
      index,
      total: 64,
      totalBytes: 64 * 4096,
      sha256: 'a'.repeat(64),
      bytes: new Uint8Array(4096),
      ...over,
    });
    const codeOf = (answer: { ok: boolean; error?: { code: string } }) => (answer.ok ? 'ok' : answer.error?.code);

    it('refuses 1-byte chunks toward a large declared payload at the first chunk', async () => {
      const c = await start({ limits: { maxMessageBytes: 8192, chunkBytes: 4096, maxUpdateBytes: 1 << 20 } });
      const { client } = await joinedClient(c, 'flood');
      track(client);
      const answer = await client.timeout(3000).emitWithAck('chunk', chunk('tiny', 0, { total: 1 << 20, totalBytes: 1 << 20, bytes: new Uint8Array(1) }));
      expect(codeOf(answer)).toBe('TRANSFER');
    });

    it('caps chunk bytes held per connection and per server, and frees them when a socket goes', async () => {
      const c = await start({ limits: { maxMessageBytes: 8192, chunkBytes: 4096, maxUpdateBytes: 1 << 20, maxConnectionBufferBytes: 4 * 4096, maxBufferedBytes: 6 * 4096 } });
      const a = await joinedClient(c, 'flood-a');
      const b = await joinedClient(c, 'flood-b');
      track(b.client);
      const push = async (client: FakeClient, id: string, n: number) => {
        const codes = [];
        for (let i = 0; i < n; i++) codes.push(codeOf(await client.timeout(3000).emitWithAck('chunk', chunk(id, i))));
        return codes;
      };
      expect(await push(a.client, 'a-1', 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'TOO_MANY_TRANSFERS']);
      expect(await push(a.client, 'a-2', 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(await push(b.client, 'b-1', 3)).toEqual(['ok', 'ok', 'TOO_MANY_TRANSFERS']);
      a.client.disconnect();
      await waitFor(() => (c.status().clients.connected === 1 ? true : undefined));
      expect(await push(b.client, 'b-2', 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    });

    it('keeps completing rounds while one token churns sockets', async () => {
      const c = await start({
        autoStart: true,
        maxConnectionsPerToken: 5,
        rounds: { minClients: 1, maxClients: 50, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 20, totalRounds: 3, reconnectGraceMs: 100 },
      });
      const honest = track(fakeClient(c, { token: CLIENT_TOKEN, clientId: 'honest' }));
      honest.on('round:start', (s) => void honest.timeout(3000).emitWithAck('update', updateFor(s, 0.1)));
      await connected(honest);
      await honest.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' }, ready: readyFor(c) });
      let refused = 0;
      for (let wave = 0; wave < 3; wave++) {
        const held = await Promise.all(
          Array.from({ length: 10 }, async () => {
            const s = track(fakeClient(c, { token: OTHER_TOKEN }));
            if ((await refusal(s)) !== undefined) return (refused++, null);
            await s.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
            return s;
          }),
        );
        held.forEach((s) => s?.disconnect());
      }
      const summary = await c.finished;
      expect(summary.roundsCompleted).toBe(3);
      expect((await rounds(c)).map((r) => r.status)).toEqual(['aggregated', 'aggregated', 'aggregated']);
      expect(refused).toBeGreaterThanOrEqual(5);
    });

    it('frees the records of connections that never joined', async () => {
      const c = await start();
      for (let i = 0; i < 30; i++) {
        const client = fakeClient(c);
        await connected(client);
        const gone = new Promise((resolve) => client.once('disconnect', resolve));
        client.disconnect();
        await gone;
      }
      await waitFor(() => (c.status().clients.connected === 0 ? true : undefined));
      const res = await fetch(`${c.url}/api/clients`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(((await res.json()) as { clients: unknown[] }).clients).toEqual([]);
    });

    it('keeps at most maxDepartedClients records of clients that joined and left', async () => {
      const c = await start({ maxDepartedClients: 2 });
      for (const id of ['a', 'b', 'c', 'd']) {
        const joined = await joinedClient(c, id);
        joined.client.disconnect();
        await waitFor(() => (c.status().clients.connected === 0 ? true : undefined));
      }
      const res = await fetch(`${c.url}/api/clients`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(((await res.json()) as { clients: { clientId: string }[] }).clients.map((r) => r.clientId).sort()).toEqual(['c', 'd']);
    });

    it('logs what a peer sends in its own malformed events rate-limited, cut and escaped', async () => {
      const lines: string[] = [];
      const c = await start({ logger: streamLogger({ write: (line) => lines.push(line) }) });
      const client = track(rawClient(c, { token: CLIENT_TOKEN, clientId: 'noisy' }));
      await connected(client);
      await client.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
      const text = `\u001b[31m${'x'.repeat(200_000)}\r\nforged line`;
      for (let i = 0; i < 100; i++) client.emit('malformed', { code: 'MALFORMED', message: text });
      await waitFor(() => (c.metrics.get('malformed_packets_total') === 0 && lines.length > 5 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const about = lines.filter((l) => l.includes('malformed packet'));
      expect(about.length).toBeLessThanOrEqual(20);
      expect(lines.join('\n').length).toBeLessThan(50_000);
      expect(lines.some((l) => /[\u0000-\u001f]/.test(l))).toBe(false);
    });
  });
});
