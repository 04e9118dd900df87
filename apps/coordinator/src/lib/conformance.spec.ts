// The coordinator's conformance to protocol/PROTOCOL.md, section by section, driven over the raw wire:
// socket.io-client with the msgpack codec of @fedsnell/protocol and hand-built payloads. No project
// client code is used, and payloads are built from the document alone.
import { Packr } from 'msgpackr';
import { io, type Socket } from 'socket.io-client';
import { createParser, PacketDecoder } from '@fedsnell/protocol';
import type { Coordinator } from './coordinator';
import { ADMIN_TOKEN, CLIENT_TOKEN, coordinatorOptions, makeStateDir, startCoordinator, waitFor, WEIGHTS, WEIGHTS_SHA } from './coordinator.testing';
import type { CoordinatorOptions } from './options';

type Json = Record<string, unknown>;
interface Tensor {
  name: string;
  shape: number[];
  dtype: 'f32' | 'f16';
  data: Uint8Array;
}
interface Start {
  taskId: string;
  round: number;
  deadline: number;
  seed: number;
  state: Tensor[];
}
type AckAnswer = { ok: true } | { ok: false; error: { code: string; message: string } };

const raw = new Packr({ useRecords: false, moreTypes: true });
const CAPABILITIES = { backend: 'cpu', platform: 'node' };

/** A codec that also keeps every frame it decodes, to look at the bytes on the wire. */
function recordingParser(frames: Uint8Array[]) {
  const base = createParser();
  return {
    Encoder: base.Encoder,
    Decoder: class extends PacketDecoder {
      override add(frame: unknown): void {
        if (frame instanceof Uint8Array) frames.push(new Uint8Array(frame));
        else if (frame instanceof ArrayBuffer) frames.push(new Uint8Array(frame.slice(0)));
        super.add(frame);
      }
    },
  };
}

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({ name, shape, dtype: 'f32', data: new Uint8Array(Float32Array.from(values).buffer) });
const valuesOf = (t: Tensor) => Array.from(new Float32Array(t.data.slice().buffer));
const metrics = { loss: 1, accuracy: 0.5, examplesPerSecond: 10, seconds: 1 };
const updateOf = (start: Start, delta: number, over: Json = {}): Json => ({
  taskId: start.taskId,
  round: start.round,
  tensors: start.state.map((t) => f32(t.name, t.shape, valuesOf(t).map((v) => v + delta))),
  numExamples: 4,
  metrics,
  ...over,
});

describe('PROTOCOL.md conformance over the raw wire', () => {
  let coordinator: Coordinator | null = null;
  let dir: Awaited<ReturnType<typeof makeStateDir>>;
  const sockets: Socket[] = [];

  async function serve(over: Partial<CoordinatorOptions> = {}): Promise<Coordinator> {
    coordinator = await startCoordinator(coordinatorOptions(dir.dir, dir.weightsPath, over));
    return coordinator;
  }

  function socket(auth: unknown, frames?: Uint8Array[]): Socket {
    const url = (coordinator as Coordinator).url;
    const s = io(url, { parser: frames ? recordingParser(frames) : createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth: auth as Json });
    sockets.push(s);
    return s;
  }

  /** Connects; resolves with the socket or with the connect_error's data. */
  function open(auth: unknown, frames?: Uint8Array[]): Promise<{ socket: Socket; refused?: { code: string; message: string } }> {
    const s = socket(auth, frames);
    return new Promise((resolve) => {
      s.once('connect', () => resolve({ socket: s }));
      s.once('connect_error', (e: Error & { data?: { code: string; message: string } }) => resolve({ socket: s, refused: e.data }));
    });
  }

  const call = (s: Socket, event: string, ...args: unknown[]): Promise<AckAnswer & Json> => s.timeout(3000).emitWithAck(event, ...args);
  const next = <T>(s: Socket, event: string): Promise<T> => new Promise((resolve) => s.once(event, (value: T) => resolve(value)));

  async function joined(clientId: string, frames?: Uint8Array[], extra: Json = {}): Promise<{ socket: Socket; ack: Json; starts: Start[] }> {
    const { socket: s, refused } = await open({ token: CLIENT_TOKEN, clientId }, frames);
    if (refused) throw new Error(refused.message);
    const starts: Start[] = [];
    s.on('round:start', (start: Start) => starts.push(start));
    const c = coordinator as Coordinator;
    const ack = await call(s, 'join', { protocolVersion: 1, capabilities: CAPABILITIES, ready: { taskId: c.task.taskId, backbone: WEIGHTS_SHA, examples: 8 }, ...extra });
    return { socket: s, ack, starts };
  }

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${(coordinator as Coordinator).url}${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers ?? {}) } });

  beforeEach(async () => {
    dir = await makeStateDir();
  });

  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.disconnect());
    await coordinator?.close();
    coordinator = null;
    await dir.cleanup();
  });

  it('§1 transport: binary msgpack frames {type, nsp, data?, id?}, no ext 0x00, websocket only, bad frames answered MALFORMED', async () => {
    await serve();
    const frames: Uint8Array[] = [];
    const { socket: s } = await joined('c-1', frames);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) {
      const packet = raw.unpack(frame) as Json;
      expect(Object.keys(packet).every((k) => ['type', 'nsp', 'data', 'id'].includes(k))).toBe(true);
      expect(packet.nsp).toBe('/');
    }
    // the server's CONNECT: {sid} only, without an undefined `pid` sent as ext 0x00
    const connect = frames.find((f) => (raw.unpack(f) as Json).type === 0) as Uint8Array;
    expect(Buffer.from(connect).includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(false);
    expect(Object.keys((raw.unpack(connect) as { data: Json }).data)).toEqual(['sid']);
    const error = next<{ code: string }>(s, 'error');
    s.io.engine.write(Buffer.from([0xc1]));
    expect((await error).code).toBe('MALFORMED');
    const polling = await fetch(`${(coordinator as Coordinator).url}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(400);
  });

  it('§2 handshake: missing or wrong token UNAUTHORIZED, wrong shape MALFORMED, ids bound to their token', async () => {
    await serve({ tokens: { client: [CLIENT_TOKEN, 'second-token'], admin: ADMIN_TOKEN } });
    expect((await open(undefined)).refused?.code).toBe('UNAUTHORIZED');
    expect((await open({})).refused?.code).toBe('UNAUTHORIZED');
    expect((await open({ token: 'wrong' })).refused?.code).toBe('UNAUTHORIZED');
    expect((await open({ token: ADMIN_TOKEN })).refused?.code).toBe('UNAUTHORIZED');
    expect((await open({ token: 5 })).refused?.code).toBe('MALFORMED');
    expect((await open({ token: CLIENT_TOKEN, clientId: 'bad/id' })).refused?.code).toBe('MALFORMED');
    await joined('owner');
    expect((await open({ token: 'second-token', clientId: 'owner' })).refused?.code).toBe('UNAUTHORIZED');
  });

  it('§3 events: an unknown event is answered UNKNOWN_EVENT by ack and by an error event', async () => {
    await serve();
    const { socket: s } = await open({ token: CLIENT_TOKEN });
    const error = next<{ code: string }>(s, 'error');
    expect(await call(s, 'steal', {})).toEqual({ ok: false, error: { code: 'UNKNOWN_EVENT', message: 'event "steal" is not part of protocol version 1' } });
    expect((await error).code).toBe('UNKNOWN_EVENT');
  });

  it('§4 join: the ack carries version, id, task, limits and currentRound; versions negotiated; malformed joins refused', async () => {
    await serve();
    const { ack } = await joined('c-1');
    expect(ack).toEqual({
      ok: true,
      protocolVersion: 1,
      clientId: 'c-1',
      task: expect.objectContaining({ taskId: 'task-1', updateDtype: 'f32', data: { classes: ['a', 'b'], maxExamples: 100_000 } }),
      limits: { maxMessageBytes: 900_000, chunkBytes: 786_432, maxUpdateBytes: 67_108_864, maxTensors: 4096, chunkTimeoutMs: 20_000 },
      currentRound: null,
    });
    expect((ack.task as { backbone: Json }).backbone).toEqual(
      expect.objectContaining({ sha256: WEIGHTS_SHA, bytes: WEIGHTS.byteLength, url: `/backbone/${WEIGHTS_SHA}/model.safetensors` }),
    );
    const { socket: old } = await open({ token: CLIENT_TOKEN });
    const gone = next(old, 'disconnect');
    expect(await call(old, 'join', { protocolVersion: 9, capabilities: CAPABILITIES })).toEqual({
      ok: false,
      error: { code: 'PROTOCOL_VERSION', message: 'join.protocolVersion must be one of 1 but got 9' },
      supportedVersions: [1],
    });
    await gone;
    const { socket: s } = await open({ token: CLIENT_TOKEN });
    expect((await call(s, 'join', { protocolVersion: 1 })).error).toEqual(expect.objectContaining({ code: 'MALFORMED' }));
    const first = await call(s, 'join', { protocolVersion: 1, capabilities: CAPABILITIES });
    const second = await call(s, 'join', { protocolVersion: 1, capabilities: CAPABILITIES });
    expect(second.clientId).toBe(first.clientId);
    expect((await call(s, 'ready', { taskId: 'other', backbone: WEIGHTS_SHA, examples: 1 })).error).toEqual(expect.objectContaining({ code: 'WRONG_TASK' }));
    expect(await call(s, 'ready', { taskId: 'task-1', backbone: WEIGHTS_SHA, examples: 1 })).toEqual({ ok: true });
  });

  it('§5 rounds: round:start with an integer deadline, every update check in order, round:end to all, task:finished', async () => {
    await serve({
      autoStart: true,
      rounds: { minClients: 2, maxClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 5000, waitForClientsMs: 20, totalRounds: 2, maxUpdateNorm: 100 },
    });
    const frames: Uint8Array[] = [];
    const a = await joined('a', frames);
    const b = await joined('b');
    const start = await waitFor(() => a.starts[0]);
    expect(start).toEqual(expect.objectContaining({ taskId: 'task-1', round: 0, seed: expect.any(Number), deadline: expect.any(Number) }));
    expect(start.state.every((t) => t.dtype === 'f32')).toBe(true);
    // the deadline, an epoch-ms uint, travels as a msgpack integer (int 64), not float 64
    const startFrame = Buffer.from(frames.find((f) => Buffer.from(f).includes(Buffer.from('round:start'))) as Uint8Array);
    expect(startFrame[startFrame.indexOf(Buffer.from('deadline')) + 'deadline'.length]).toBe(0xd3);
    const [first, second] = start.state;
    const code = async (update: Json) => {
      const answer = await call(a.socket, 'update', update);
      return answer.ok ? 'ok' : answer.error.code;
    };
    const many = Array.from({ length: 4097 }, (_, i) => f32(`t${i}`, [1], [0]));
    expect(await code({ ...updateOf(start, 1), numExamples: -1 })).toBe('MALFORMED');
    expect(await code(updateOf(start, 1, { taskId: 'other' }))).toBe('WRONG_TASK');
    expect(await code(updateOf(start, 1, { round: 5 }))).toBe('WRONG_ROUND');
    expect(await code(updateOf(start, 1, { numExamples: 100_001 }))).toBe('MALFORMED');
    expect(await code(updateOf(start, 1, { tensors: many }))).toBe('PAYLOAD_TOO_LARGE');
    expect(await code(updateOf(start, 1, { tensors: [first, first] }))).toBe('TENSOR_NAME');
    expect(await code(updateOf(start, 1, { tensors: [first] }))).toBe('TENSOR_NAME');
    expect(await code(updateOf(start, 1, { tensors: [f32(first.name, [4], valuesOf(first)), second] }))).toBe('TENSOR_SHAPE');
    expect(await code(updateOf(start, 1, { tensors: [{ ...first, dtype: 'f16', data: new Uint8Array(first.data.byteLength / 2) }, second] }))).toBe('TENSOR_DTYPE');
    expect(await code(updateOf(start, NaN))).toBe('NON_FINITE');
    expect(await code(updateOf(start, 1000))).toBe('NORM_BOUND');
    const ends = [next<Json>(a.socket, 'round:end'), next<Json>(b.socket, 'round:end')];
    expect(await code(updateOf(start, 1))).toBe('ok');
    expect(await code(updateOf(start, 1))).toBe('DUPLICATE');
    expect(await call(b.socket, 'update', updateOf(start, 3))).toEqual({ ok: true });
    for (const end of await Promise.all(ends)) expect(end).toEqual({ taskId: 'task-1', round: 0, status: 'aggregated', updates: 2, metrics: { accuracy: 0.5, loss: 2 } });
    // round 1: b cannot train it and says so; the round closes at once, without waiting for its deadline
    const next1 = await waitFor(() => b.starts[1]);
    expect(await code(updateOf(start, 1))).toBe('STALE');
    expect(valuesOf(next1.state[1])).toEqual([2, 2]);
    const finished = [next<Json>(a.socket, 'task:finished'), next<Json>(b.socket, 'task:finished')];
    expect(await call(b.socket, 'round:failed', { taskId: 'task-1', round: 1, reason: 'DATA', message: 'no decodable image' })).toEqual({ ok: true });
    expect(await call(b.socket, 'round:failed', { taskId: 'task-1', round: 1, reason: 'DATA', message: 'again' })).toEqual(expect.objectContaining({ ok: false }));
    expect(await Promise.all(finished)).toEqual([
      { taskId: 'task-1', roundsCompleted: 2, lastRound: 1, metrics: {} },
      { taskId: 'task-1', roundsCompleted: 2, lastRound: 1, metrics: {} },
    ]);
  });

  it('§5 rounds: the round:start state of an f16 task is f32', async () => {
    const options = coordinatorOptions(dir.dir, dir.weightsPath, { autoStart: true });
    await serve({ autoStart: true, task: { ...options.task, updateDtype: 'f16' } });
    const a = await joined('a');
    const start = await waitFor(() => a.starts[0]);
    expect(start.state.map((t) => t.dtype)).toEqual(['f32', 'f32']);
  });

  it('§6 resume: a selected client that reconnects gets the same round:start again, and DUPLICATE once delivered', async () => {
    await serve({ autoStart: true, rounds: { minClients: 2, maxClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 5000, waitForClientsMs: 20, totalRounds: 1, reconnectGraceMs: 5000 } });
    const a = await joined('a');
    await joined('b');
    const start = await waitFor(() => a.starts[0]);
    a.socket.disconnect();
    const again = await joined('a', undefined, { resume: { taskId: 'task-1', lastRound: 0 } });
    expect(again.ack.currentRound).toBe(0);
    const repeated = await waitFor(() => again.starts[0]);
    expect([repeated.round, repeated.seed, repeated.deadline]).toEqual([start.round, start.seed, start.deadline]);
    expect(await call(again.socket, 'update', updateOf(start, 1))).toEqual({ ok: true });
    const third = await joined('a', undefined, { resume: { taskId: 'task-1', lastRound: 0 } });
    expect((await call(third.socket, 'update', updateOf(start, 1))).error).toEqual(expect.objectContaining({ code: 'DUPLICATE' }));
  });

  it('§7 chunked transfers: reassembled updates, bounds, NOT_JOINED, client round:start chunks refused', async () => {
    await serve({ autoStart: true, limits: { maxMessageBytes: 8192, chunkBytes: 4096 } });
    const { socket: outsider } = await open({ token: CLIENT_TOKEN });
    const chunk = (over: Json = {}) => ({ transferId: 't1', event: 'update', index: 0, total: 1, totalBytes: 3, sha256: 'a'.repeat(64), bytes: new Uint8Array(3), ...over });
    expect((await call(outsider, 'chunk', chunk())).error).toEqual(expect.objectContaining({ code: 'NOT_JOINED' }));
    const a = await joined('a');
    const start = await waitFor(() => a.starts[0]);
    const payload = raw.pack(updateOf(start, 1));
    const sha256 = (await import('node:crypto')).createHash('sha256').update(payload).digest('hex');
    const pieces = [payload.subarray(0, 100), payload.subarray(100)];
    const send = (index: number) => call(a.socket, 'chunk', { transferId: 'up-1', event: 'update', index, total: 2, totalBytes: payload.byteLength, sha256, bytes: pieces[index] });
    // any order; the last chunk's ack is the update's ack
    expect(await send(1)).toEqual({ ok: true });
    expect(await send(0)).toEqual({ ok: true });
    expect(await waitFor(() => (coordinator as Coordinator).metrics.get('updates_accepted_total') || undefined)).toBe(1);
    expect((await call(a.socket, 'chunk', chunk({ transferId: 't2', totalBytes: 67_108_865, total: 1 }))).error).toEqual(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect((await call(a.socket, 'chunk', chunk({ transferId: 't3', event: 'round:start' }))).error).toEqual(expect.objectContaining({ code: 'MALFORMED' }));
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await call(a.socket, 'chunk', chunk({ transferId: `many-${i}`, total: 2, totalBytes: 4100, bytes: new Uint8Array(4096) })));
    expect(answers.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['ok', 'ok', 'ok', 'ok', 'TOO_MANY_TRANSFERS']);
  });

  it('§8 errors: a progress that fails validation is answered by an error event', async () => {
    await serve();
    const { socket: s } = await joined('a');
    const error = next<{ code: string; message: string }>(s, 'error');
    s.emit('progress', { round: -1, step: 0 });
    expect(await error).toEqual({ code: 'MALFORMED', message: expect.stringMatching(/^progress\.round must be/) });
  });

  it('§9 backbone over HTTP: ETag and 304, ranges 206 and 416, other hashes 404', async () => {
    await serve();
    const url = `${(coordinator as Coordinator).url}/backbone/${WEIGHTS_SHA}/model.safetensors`;
    const whole = await fetch(url);
    expect([whole.status, whole.headers.get('etag'), whole.headers.get('accept-ranges')]).toEqual([200, `"${WEIGHTS_SHA}"`, 'bytes']);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(WEIGHTS);
    expect((await fetch(url, { headers: { 'If-None-Match': `"${WEIGHTS_SHA}"` } })).status).toBe(304);
    const part = await fetch(url, { headers: { Range: 'bytes=2-4' } });
    expect([part.status, part.headers.get('content-range'), Array.from(new Uint8Array(await part.arrayBuffer()))]).toEqual([206, 'bytes 2-4/10', [3, 4, 5]]);
    const beyond = await fetch(url, { headers: { Range: 'bytes=50-60' } });
    expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, 'bytes */10']);
    expect((await fetch(`${(coordinator as Coordinator).url}/backbone/${'0'.repeat(64)}/model.safetensors`)).status).toBe(404);
  });

  it('§10 admin API: 401 with WWW-Authenticate, status, rounds with rejected, clients, metrics', async () => {
    await serve({ autoStart: true });
    const refused = await fetch(`${(coordinator as Coordinator).url}/api/status`, { headers: { Authorization: `Bearer ${CLIENT_TOKEN}` } });
    expect([refused.status, refused.headers.get('www-authenticate'), ((await refused.json()) as { error: Json }).error.code]).toEqual([401, 'Bearer', 'UNAUTHORIZED']);
    const a = await joined('a');
    const start = await waitFor(() => a.starts[0]);
    await call(a.socket, 'update', updateOf(start, NaN));
    const ended = next(a.socket, 'round:end');
    await call(a.socket, 'update', updateOf(start, 1));
    await ended;
    const rounds = ((await (await admin('/api/rounds')).json()) as { rounds: Json[] }).rounds;
    expect(rounds[0]).toEqual(expect.objectContaining({ round: 0, status: 'aggregated', selected: ['a'], updates: 1, rejected: 1, closedAt: expect.any(Number) }));
    const status = (await (await admin('/api/status')).json()) as Json;
    expect(status).toEqual(expect.objectContaining({ taskId: 'task-1', protocolVersion: 1, roundsCompleted: 1, clients: { connected: 1, joined: 1 } }));
    const clients = ((await (await admin('/api/clients')).json()) as { clients: Json[] }).clients;
    expect(clients[0]).toEqual(expect.objectContaining({ clientId: 'a', connected: true, accepted: 1, rejected: 1, ready: true, examples: 8, failedRounds: 0 }));
    const text = await (await admin('/metrics')).text();
    expect(text).toContain('fedsnell_updates_rejected_total{code="NON_FINITE"} 1\n');
  });

  it('§11 limits: the join ack announces the server limits', async () => {
    await serve({ limits: { maxMessageBytes: 8192, chunkBytes: 4096, maxTensors: 64 } });
    const { ack } = await joined('a');
    expect(ack.limits).toEqual({ maxMessageBytes: 8192, chunkBytes: 4096, maxUpdateBytes: 67_108_864, maxTensors: 64, chunkTimeoutMs: 20_000 });
  });
});
