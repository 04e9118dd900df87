import { parseSafetensors } from '@fedsnell/tensor-io';
import type { Coordinator } from './coordinator';
import { ADMIN_TOKEN, CLIENT_TOKEN, WEIGHTS_SHA, coordinatorOptions, joinedClient, makeStateDir, nextRoundEnd, startCoordinator, updateFor, waitFor, type FakeClient } from './coordinator.testing';
import type { CoordinatorOptions } from './options';

describe('coordinator http', () => {
  let coordinator: Coordinator;
  let dir: Awaited<ReturnType<typeof makeStateDir>>;
  const clients: FakeClient[] = [];
  const weights = () => `${coordinator.url}/backbone/${WEIGHTS_SHA}/model.safetensors`;
  const admin = (path: string, init: RequestInit = {}) => fetch(`${coordinator.url}${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });

  async function start(over: Partial<CoordinatorOptions> = {}) {
    coordinator = await startCoordinator(coordinatorOptions(dir.dir, dir.weightsPath, over));
  }

  beforeEach(async () => {
    dir = await makeStateDir();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    await coordinator.close();
    await dir.cleanup();
  });

  describe('backbone', () => {
    it('serves the weights with immutable caching', async () => {
      await start();
      const res = await fetch(weights());
      expect([res.status, res.headers.get('etag'), res.headers.get('cache-control'), Array.from(new Uint8Array(await res.arrayBuffer()))]).toEqual([
        200,
        `"${WEIGHTS_SHA}"`,
        'public, max-age=31536000, immutable',
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      ]);
    });

    it('serves a range', async () => {
      await start();
      const res = await fetch(weights(), { headers: { Range: 'bytes=2-4' } });
      expect([res.status, res.headers.get('content-range'), Array.from(new Uint8Array(await res.arrayBuffer()))]).toEqual([206, 'bytes 2-4/10', [3, 4, 5]]);
    });

    it('answers 416 to an unsatisfiable range', async () => {
      await start();
      const res = await fetch(weights(), { headers: { Range: 'bytes=20-' } });
      expect([res.status, res.headers.get('content-range')]).toEqual([416, 'bytes */10']);
    });

    it('answers 304 to a matching ETag', async () => {
      await start();
      const res = await fetch(weights(), { headers: { 'If-None-Match': `"${WEIGHTS_SHA}"` } });
      expect(res.status).toBe(304);
    });

    it('serves config.json', async () => {
      await start();
      const res = await fetch(`${coordinator.url}/backbone/${WEIGHTS_SHA}/config.json`);
      expect(await res.json()).toEqual({ architecture: 'vit_tiny_patch16_224' });
    });

    it('answers 404 for another hash', async () => {
      await start();
      expect((await fetch(`${coordinator.url}/backbone/${'0'.repeat(64)}/model.safetensors`)).status).toBe(404);
    });

    it('can require a client token', async () => {
      await start({ protectBackbone: true });
      const [without, withToken] = await Promise.all([fetch(weights()), fetch(weights(), { headers: { Authorization: `Bearer ${CLIENT_TOKEN}` } })]);
      expect([without.status, withToken.status]).toEqual([401, 200]);
    });

    it('refuses a weights file that does not match its sha256', async () => {
      const options = coordinatorOptions(dir.dir, dir.weightsPath);
      await expect(startCoordinator({ ...options, backbone: { ...options.backbone, sha256: 'f'.repeat(64) } })).rejects.toThrow(/^backbone\.sha256 passed to createCoordinator\(\) must be the sha256 of/);
      await start();
    });
  });

  it('refuses an invalid task at start', async () => {
    const options = coordinatorOptions(dir.dir, dir.weightsPath);
    await expect(startCoordinator({ ...options, task: { ...options.task, snell: { ...options.task.snell, sparsity: 1 } } })).rejects.toThrow(
      'task passed to createCoordinator() is invalid: task.snell.sparsity must be a sparsity in [0, 1) but got 1',
    );
    await start();
  });

  describe('admin', () => {
    it('refuses a missing token', async () => {
      await start();
      const res = await fetch(`${coordinator.url}/api/status`);
      expect([res.status, res.headers.get('www-authenticate'), (await res.json()).error.code]).toEqual([401, 'Bearer', 'UNAUTHORIZED']);
    });

    it('refuses a client token', async () => {
      await start();
      const res = await fetch(`${coordinator.url}/api/status`, { headers: { Authorization: `Bearer ${CLIENT_TOKEN}` } });
      expect(res.status).toBe(401);
    });

    it('reports status', async () => {
      await start();
      const body = await (await admin('/api/status')).json();
      expect([body.state, body.taskId, body.round, body.clients]).toEqual(['idle', 'task-1', null, { connected: 0, joined: 0 }]);
    });

    it('starts and pauses', async () => {
      await start();
      const started = await (await admin('/api/start', { method: 'POST' })).json();
      const paused = await (await admin('/api/pause', { method: 'POST' })).json();
      expect([started.state, paused.state]).toEqual(['running', 'paused']);
    });

    it('refuses GET on a POST route', async () => {
      await start();
      expect((await admin('/api/start')).status).toBe(405);
    });

    it('lists clients', async () => {
      await start();
      const { client } = await joinedClient(coordinator, 'c-9');
      clients.push(client);
      const body = await (await admin('/api/clients')).json();
      expect(body.clients.map((c: { clientId: string; backend: string }) => [c.clientId, c.backend])).toEqual([['c-9', 'cpu']]);
    });

    it('serves the adapter of a finished round and lists it', async () => {
      await start({ autoStart: true });
      const joined = await joinedClient(coordinator, 'c-1');
      clients.push(joined.client);
      const ended = nextRoundEnd(joined.client);
      await joined.client.timeout(3000).emitWithAck('update', updateFor(await waitFor(() => joined.starts[0]), 1));
      await ended;
      const res = await admin('/api/adapter?round=0');
      const parsed = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
      const rounds = await (await admin('/api/rounds')).json();
      expect([res.headers.get('content-disposition'), JSON.parse(parsed.metadata.fedsnell).modules, rounds.rounds[0].status]).toEqual([
        'attachment; filename="adapter-round-0.safetensors"',
        ['blocks.0.attn.q'],
        'aggregated',
      ]);
    });

    it('answers 404 for an adapter before any round', async () => {
      await start();
      expect((await admin('/api/adapter')).status).toBe(404);
    });

    it('answers 400 for a bad round parameter', async () => {
      await start();
      expect((await admin('/api/adapter?round=-1')).status).toBe(400);
    });

    it('exposes Prometheus metrics', async () => {
      await start();
      await fetch(`${coordinator.url}/api/status`);
      const res = await admin('/metrics');
      expect([res.headers.get('content-type'), await res.text()]).toEqual([
        'text/plain; version=0.0.4; charset=utf-8',
        expect.stringContaining('fedsnell_auth_failures_total 1\n'),
      ]);
    });

    it('counts backbone bytes served', async () => {
      await start();
      await (await fetch(weights())).arrayBuffer();
      await (await fetch(weights(), { headers: { Range: 'bytes=2-4' } })).arrayBuffer();
      const text = await (await admin('/metrics')).text();
      expect(text).toContain('fedsnell_bytes_sent_total{channel="backbone"} 13\n');
    });

    it('counts socket bytes in and out', async () => {
      await start();
      clients.push((await joinedClient(coordinator)).client);
      const text = await (await admin('/metrics')).text();
      const value = (direction: string) => Number(new RegExp(`fedsnell_bytes_${direction}_total\\{channel="socket"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      // the join request in, the join acknowledgement (with the task) out
      expect(value('received')).toBeGreaterThan(20);
      expect(value('sent')).toBeGreaterThan(value('received'));
    });
  });
});
