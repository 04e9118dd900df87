import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/train';
import { decodePayload, decodeTensor, type Update, type WireLimits } from '@fedsnell/protocol';
import { FakeCoordinator, waitFor, type FakeCoordinatorOptions } from '@fedsnell/client/testing';
import { CLASSES, fixtureRound, fixtureTask, loadFixture, PRIVATE_MARK, writePrivateFolder, type Fixture } from '../testing/fixture';
import { ClientError, type ClientEvent } from '@fedsnell/client';
import { createNodeClient, type NodeClientOptions } from './node-client';

const TOKEN = 'client-secret';
const FAST_RECONNECT = { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 };

describe('createNodeClient', () => {
  let fixture: Fixture;
  let work: string;
  let dataDir: string;
  let fake: FakeCoordinator | undefined;

  beforeAll(async () => {
    await useBackend('wasm');
    fixture = loadFixture();
    work = mkdtempSync(join(tmpdir(), 'fedsnell-client-'));
    dataDir = join(work, 'data');
    await writePrivateFolder(dataDir);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function serve(over: Partial<FakeCoordinatorOptions> = {}): Promise<FakeCoordinator> {
    fake = await new FakeCoordinator({ token: TOKEN, task: fixtureTask(fixture), backbone: fixture.weights, round: () => fixtureRound(fixture), ...over }).listen();
    return fake;
  }

  function client(server: FakeCoordinator, over: Partial<NodeClientOptions> = {}, events: ClientEvent[] = []) {
    return createNodeClient({
      server: server.url,
      token: TOKEN,
      dataDir,
      backend: 'wasm',
      cacheDir: mkdtempSync(join(work, 'cache-')),
      reconnect: FAST_RECONNECT,
      maxRounds: 1,
      onEvent: (e) => events.push(e),
      ...over,
    });
  }

  it('trains one round and sends the state it was given, trained', async () => {
    const server = await serve();
    const result = await client(server).start();
    expect(result.rounds).toEqual([expect.objectContaining({ round: 0, outcome: 'accepted', numExamples: 15 })]);
    const update = server.updates[0];
    expect(update.tensors.map((t) => [t.name, t.shape])).toEqual(fixture.state.map((t) => [t.name, t.shape]));
    const headBefore = decodeTensor(fixture.state.find((t) => t.name === 'head.weight') as Update['tensors'][0]);
    const headAfter = decodeTensor(update.tensors.find((t) => t.name === 'head.weight') as Update['tensors'][0]);
    expect(headAfter).not.toEqual(headBefore);
  });

  it('trains on a folder that has no images of some classes (non-IID data)', async () => {
    const partial = join(work, 'partial');
    // every class folder exists, only the first class holds images
    await writePrivateFolder(partial, CLASSES.slice(0, 1), 4);
    for (const c of CLASSES.slice(1)) mkdirSync(join(partial, c), { recursive: true });
    const server = await serve();
    const result = await client(server, { dataDir: partial }).start();
    expect(result.rounds).toEqual([expect.objectContaining({ round: 0, outcome: 'accepted', numExamples: 4 })]);
  });

  it('trains with two worker threads and sends the same tensors', async () => {
    const server = await serve();
    const result = await client(server, { workers: 2 }).start();
    expect(result.rounds).toEqual([expect.objectContaining({ round: 0, outcome: 'accepted', numExamples: 15 })]);
    expect(server.updates[0].tensors.map((t) => [t.name, t.shape])).toEqual(fixture.state.map((t) => [t.name, t.shape]));
  });

  it('refuses worker threads on a backend they cannot run', () => {
    expect(() => createNodeClient({ server: 'http://127.0.0.1:1', token: TOKEN, dataDir, cacheDir: work, backend: 'webgpu', workers: 2 })).toThrow(
      'workers passed to createNodeClient() runs wasm or cpu in worker threads; backend must be wasm or cpu but got webgpu',
    );
  });

  it('releases the model and every tensor when it stops', async () => {
    const server = await serve();
    const before = tf.memory().numTensors;
    await client(server).start();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sends nothing but named state tensors, counts and metrics (wire recorder)', async () => {
    const server = await serve();
    await client(server).start();
    const names = new Set(fixture.state.map((t) => t.name));
    const seen = { strings: [] as string[], tensors: [] as string[], tensorBytes: 0, otherBytes: 0 };
    const walk = (value: unknown): void => {
      if (typeof value === 'string') seen.strings.push(value);
      else if (value instanceof Uint8Array || ArrayBuffer.isView(value)) seen.otherBytes += (value as ArrayBufferView).byteLength;
      else if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === 'object' && value !== null) {
        const o = value as Record<string, unknown>;
        if (typeof o['name'] === 'string' && o['data'] instanceof Uint8Array) {
          seen.tensors.push(o['name']);
          seen.tensorBytes += o['data'].byteLength;
          seen.strings.push(o['name'], String(o['dtype']));
          return;
        }
        for (const [key, v] of Object.entries(o)) {
          seen.strings.push(key);
          // chunked payloads are decoded and walked as what they carry
          walk(key === 'bytes' && v instanceof Uint8Array ? decodePayload(v) : v);
        }
      }
    };
    server.packets.forEach(walk);
    const events = server.packets.filter((p) => p.type === 2).map((p) => (p.data as unknown[])[0]);
    expect(new Set(events)).toEqual(new Set(['join', 'ready', 'update', ...(server.progress.length ? ['progress'] : [])]));
    expect(seen.tensors.every((n) => names.has(n))).toBe(true);
    expect(seen.tensorBytes).toBe(fixture.state.reduce((s, t) => s + t.data.byteLength, 0));
    expect(seen.otherBytes).toBe(0);
    expect(seen.strings.filter((s) => s.includes(PRIVATE_MARK) || s.includes(dataDir) || s.includes('.png'))).toEqual([]);
    expect(Object.keys(server.updates[0]).sort()).toEqual(['metrics', 'numExamples', 'round', 'taskId', 'tensors']);
  });

  it('reuses a cached backbone without downloading', async () => {
    const server = await serve();
    const cacheDir = mkdtempSync(join(work, 'cache-'));
    await client(server, { cacheDir }).start();
    server.httpRequests.length = 0;
    const events: ClientEvent[] = [];
    await client(server, { cacheDir }, events).start();
    expect(server.httpRequests).toEqual([]);
    expect(events.some((e) => e.type === 'backbone' && e.phase === 'cached')).toBe(true);
  }, 20_000);

  it('stops with an error and keeps no file when the backbone hash differs', async () => {
    const server = await serve({ backbone: Uint8Array.from(fixture.weights, (b) => b ^ 1) });
    const cacheDir = mkdtempSync(join(work, 'cache-'));
    await expect(client(server, { cacheDir }).start()).rejects.toThrow(`must have sha256 ${fixture.sha256} but the download hashes to`);
    expect(existsSync(join(cacheDir, fixture.sha256, 'model.safetensors'))).toBe(false);
    expect(server.updates).toEqual([]);
  });

  it('retries a failed backbone download', async () => {
    const server = await serve({ backboneFailures: 2 });
    const events: ClientEvent[] = [];
    const result = await client(server, {}, events).start();
    expect(result.rounds.map((r) => r.outcome)).toEqual(['accepted']);
    expect(events.filter((e) => e.type === 'error' && e.message.includes('retrying')).length).toBe(2);
  });

  it('stops naming the classes when the data folder differs from the task', async () => {
    const server = await serve({ task: fixtureTask(fixture, { data: { classes: ['a', 'b', 'c', 'd', 'z'] } }) });
    await expect(client(server).start()).rejects.toThrow('missing z; unexpected e');
    // the round it was selected for is given up once, before it disconnects
    expect(server.failures.map((f) => [f.round, f.reason])).toEqual([[0, 'DATA']]);
  });

  it('chunks an update larger than the message limit', async () => {
    const limits: WireLimits = { maxMessageBytes: 5000, chunkBytes: 1024, maxUpdateBytes: 1 << 20, maxTensors: 64, chunkTimeoutMs: 5000 };
    const server = await serve({ limits });
    const events: ClientEvent[] = [];
    await client(server, {}, events).start();
    const sent = events.find((e) => e.type === 'update:sent');
    expect(sent).toEqual(expect.objectContaining({ chunks: expect.any(Number) }));
    expect((sent as { chunks: number }).chunks).toBeGreaterThan(1);
    expect(server.updates[0].tensors.map((t) => t.name)).toEqual(fixture.state.map((t) => t.name));
  });

  it('takes a round:start that arrives before the join ack', async () => {
    const server = await serve({ startBeforeAck: true });
    const result = await client(server).start();
    expect(result.rounds.map((r) => r.outcome)).toEqual(['accepted']);
  });

  it('takes a round:start sent in chunks', async () => {
    const server = await serve({ roundStartChunkBytes: 2048 });
    const result = await client(server).start();
    expect(server.chunkAcks.length).toBeGreaterThan(1);
    expect(server.chunkAcks.every((a) => a.ok)).toBe(true);
    expect(result.rounds.map((r) => r.outcome)).toEqual(['accepted']);
  });

  it('drops its round and prepares the new task when the task changes', async () => {
    const server = await serve();
    const onEvent = (e: ClientEvent) => {
      if (e.type !== 'round:start' || server.joins.length === 0 || e.round !== 0) return;
      server.sendTask(fixtureTask(fixture, { taskId: 'task-2' }));
      server.announce(fixtureRound(fixture, 1, { taskId: 'task-2' }));
    };
    const result = await client(server, { onEvent }).start();
    expect(server.updates.map((u) => u.taskId)).toEqual(['task-2']);
    expect(result.rounds.map((r) => r.outcome)).toEqual(['skipped', 'accepted']);
  });

  it('reconnects after a dropped connection, resumes and sends the round once', async () => {
    const server = await serve({ onUpdate: (_u, n) => (n === 0 ? 'drop' : 'ack') });
    const events: ClientEvent[] = [];
    const result = await client(server, {}, events).start();
    expect(server.joins.map((j) => j.request.resume)).toEqual([undefined, { taskId: 'task-1', lastRound: 0 }]);
    expect((server.joins[1].auth as { clientId?: string }).clientId).toBe(server.joins.length && result.clientId);
    expect(server.updates.length).toBe(2);
    expect(server.updates[1]).toEqual(server.updates[0]);
    expect(result.rounds.map((r) => r.outcome)).toEqual(['accepted']);
    expect(events.some((e) => e.type === 'reconnecting')).toBe(true);
  });

  it('reconnects when the server drops it while training', async () => {
    const server = await serve();
    let dropped = false;
    // dropped from inside the event, so training has certainly not finished yet
    const onEvent = (e: ClientEvent) => {
      if (e.type === 'round:start' && !dropped) {
        dropped = true;
        server.dropAll();
      }
    };
    const result = await client(server, { onEvent }).start();
    expect(server.joins.length).toBe(2);
    expect(server.updates.length).toBe(1);
    expect(result.rounds.map((r) => r.outcome)).toEqual(['accepted']);
  });

  it('does not send twice when a round is announced again after its ack', async () => {
    const server = await serve();
    const events: ClientEvent[] = [];
    const c = client(server, { maxRounds: 0 }, events);
    const run = c.start();
    await waitFor(() => events.some((e) => e.type === 'update:acked'));
    server.announce(fixtureRound(fixture));
    server.announce(fixtureRound(fixture, 1));
    await waitFor(() => events.some((e) => e.type === 'update:acked' && e.round === 1));
    await c.stop();
    await run;
    expect(server.updates.map((u) => u.round)).toEqual([0, 1]);
  });

  it('stop() while training sends nothing and resolves', async () => {
    const server = await serve();
    let stopping: Promise<void> | undefined;
    const c = client(server, { onEvent: (e) => void (e.type === 'train' && (stopping ??= c.stop('test over'))) });
    const result = await c.start();
    await stopping;
    expect([result.reason, result.rounds.map((r) => r.outcome), server.updates.length]).toEqual(['test over', ['skipped'], 0]);
  });

  it('skips a round whose deadline has passed', async () => {
    const server = await serve({ round: () => fixtureRound(fixture, 0, { deadline: Date.now() - 1 }) });
    const events: ClientEvent[] = [];
    const c = client(server, {}, events);
    const run = c.start();
    await waitFor(() => events.some((e) => e.type === 'round:skipped'));
    await c.stop();
    const result = await run;
    expect(result.rounds).toEqual([{ round: 0, outcome: 'skipped', reason: 'deadline passed before training started' }]);
    expect(server.updates).toEqual([]);
  });

  it('stops on a refused token without retrying', async () => {
    const server = await serve();
    await expect(client(server, { token: 'wrong' }).start()).rejects.toThrow('refused the connection (UNAUTHORIZED): bad client token');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connections).toBe(1);
  });

  it('stops on a protocol version the server does not speak', async () => {
    const server = await serve({
      refuseJoin: { ok: false, error: { code: 'PROTOCOL_VERSION', message: 'this server speaks 2' }, supportedVersions: [2] },
    });
    await expect(client(server).start()).rejects.toThrow('speaks protocol version(s) 2 but this client speaks 1');
    expect(server.joins.length).toBe(1);
  });

  it('stops naming a data folder without class folders', async () => {
    const flat = join(work, 'flat');
    mkdirSync(flat, { recursive: true });
    writeFileSync(join(flat, 'loose.png'), 'x');
    const server = await serve();
    const error = await client(server, { dataDir: flat }).start().catch((e: unknown) => e);
    expect([(error as ClientError).code, (error as ClientError).message]).toEqual(['DATA', `data folder ${flat} has no class sub-folders (one per class of the task)`]);
  });

  it('says it is ready once the backbone is verified and the data opened', async () => {
    const server = await serve();
    await client(server).start();
    expect(server.ready).toEqual([{ taskId: 'task-1', backbone: fixture.sha256, examples: 15 }]);
  });

  it('leaves out a corrupt PNG and a non-image, counts them and trains on the rest', async () => {
    const messy = join(work, 'messy');
    cpSync(dataDir, messy, { recursive: true });
    const a = join(messy, 'a');
    const first = join(a, readdirSync(a)[0]);
    writeFileSync(first, readFileSync(first).subarray(0, 60));
    writeFileSync(join(messy, 'b', 'notes.png'), 'not an image');
    const server = await serve();
    const events: ClientEvent[] = [];
    const result = await client(server, { dataDir: messy }, events).start();
    expect(events.find((e) => e.type === 'data')).toEqual(expect.objectContaining({ examples: 14, skipped: 2 }));
    expect(result.rounds).toEqual([expect.objectContaining({ round: 0, outcome: 'accepted', numExamples: 14 })]);
  });

  it('tells the server with round:failed when a round cannot be trained', async () => {
    const fragile = join(work, 'fragile');
    cpSync(dataDir, fragile, { recursive: true });
    const server = await serve();
    // every image breaks after the folder was checked: the round cannot load a batch
    const onEvent = (e: ClientEvent) => {
      if (e.type !== 'ready') return;
      for (const c of readdirSync(fragile)) for (const f of readdirSync(join(fragile, c))) writeFileSync(join(fragile, c, f), 'gone');
    };
    const events: ClientEvent[] = [];
    const c = client(server, { dataDir: fragile, onEvent: (e) => (events.push(e), onEvent(e)) });
    const run = c.start();
    await waitFor(() => events.some((e) => e.type === 'round:failed'));
    await c.stop();
    const result = await run;
    expect(server.failures).toEqual([expect.objectContaining({ taskId: 'task-1', round: 0, reason: 'DATA' })]);
    expect(events.find((e) => e.type === 'round:failed')).toEqual(expect.objectContaining({ round: 0, reason: 'DATA', counted: true }));
    expect(result.rounds.map((r) => r.outcome)).toEqual(['failed']);
    expect(server.updates).toEqual([]);
  });

  it('stops when the task finishes and reports it', async () => {
    const finished = { taskId: 'task-1', roundsCompleted: 3, lastRound: 2, metrics: { accuracy: 0.5 } };
    const server = await serve({ finished, round: undefined });
    const result = await client(server, { maxRounds: 0 }).start();
    expect([result.reason, result.finished]).toEqual(['task task-1 finished after 3 round(s)', finished]);
  });

  it('gives up on a server that never answers, with UNREACHABLE', async () => {
    const started = Date.now();
    const failing = createNodeClient({ server: 'http://127.0.0.1:1', token: TOKEN, dataDir, cacheDir: work, backend: 'wasm', reconnect: FAST_RECONNECT, serverTimeoutMs: 300 });
    const error = await failing.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect([(error as ClientError).code, (error as ClientError).message]).toEqual(['UNREACHABLE', expect.stringContaining('no coordinator answered at http://127.0.0.1:1 within 0.3 s')]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('keeps trying an unreachable server when told to wait', async () => {
    const events: ClientEvent[] = [];
    const waiting = createNodeClient({ server: 'http://127.0.0.1:1', token: TOKEN, dataDir, cacheDir: work, backend: 'wasm', reconnect: FAST_RECONNECT, serverTimeoutMs: Infinity, onEvent: (e) => events.push(e) });
    const run = waiting.start();
    await new Promise((r) => setTimeout(r, 600));
    await waiting.stop('test over');
    expect((await run).reason).toBe('test over');
    expect(events.filter((e) => e.type === 'reconnecting').length).toBeGreaterThan(2);
  });

  it('refuses a backbone larger than it accepts, before downloading a byte', async () => {
    const server = await serve();
    const error = await client(server, { maxBackboneBytes: 1000 }).start().catch((e: unknown) => e);
    expect((error as ClientError).code).toBe('BACKBONE_TOO_LARGE');
    expect(server.httpRequests).toEqual([]);
  });
});
