// Shared set-up for coordinator specs: a tiny backbone on disk, a two-tensor global state and
// socket.io-client fake clients that speak the real protocol with hand-made tensors.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { fedAvg } from '@fedsnell/federation';
import { mulberry32 } from '@fedsnell/util';
import {
  createParser,
  encodeTensor,
  type ClientToServerEvents,
  type ErrorEvent,
  type JoinAck,
  type RoundEnd,
  type RoundStart,
  type ServerToClientEvents,
  type Update,
} from '@fedsnell/protocol';
import type { TensorMap } from '@fedsnell/tensor-io';
import { createCoordinator, type Coordinator } from './coordinator';
import type { CoordinatorOptions } from './options';

export type FakeClient = Socket<ServerToClientEvents, ClientToServerEvents>;

export const CLIENT_TOKEN = 'client-token';
export const ADMIN_TOKEN = 'admin-token';
export const WEIGHTS = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
export const WEIGHTS_SHA = createHash('sha256').update(WEIGHTS).digest('hex');

export function initialState(): TensorMap {
  return new Map([
    ['blocks.0.attn.q.snell_A', { shape: [1, 2, 2], data: new Float32Array([0, 0, 0, 0]) }],
    ['head.bias', { shape: [2], data: new Float32Array([0, 0]) }],
  ]);
}

/** A seeded RNG for specs (the one every seeded choice in fedsnell uses). */
export const seeded = mulberry32;

export async function makeStateDir(): Promise<{ dir: string; weightsPath: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fedsnell-coord-'));
  const weightsPath = join(dir, 'model.safetensors');
  await writeFile(weightsPath, WEIGHTS);
  return { dir, weightsPath, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function coordinatorOptions(stateDir: string, weightsPath: string, over: Partial<CoordinatorOptions> = {}): CoordinatorOptions {
  return {
    port: 0,
    tokens: { client: [CLIENT_TOKEN], admin: ADMIN_TOKEN },
    backbone: { sha256: WEIGHTS_SHA, configJson: '{"architecture":"vit_tiny_patch16_224"}', weightsPath },
    task: {
      taskId: 'task-1',
      snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 1, rank: 2, sparsity: 0.5, targets: ['q'] },
      trainer: { epochs: 1, batchSize: 2, lr: 0.01, weightDecay: 0, schedule: 'constant', seed: 1 },
      data: { classes: ['a', 'b'] },
      updateDtype: 'f32',
    },
    initialState: initialState(),
    strategy: fedAvg(),
    evaluate: async (state) => ({ accuracy: 0.5, loss: state.get('head.bias')?.data[0] ?? 0 }),
    stateDir: join(stateDir, 'state'),
    rounds: { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 1 },
    rng: seeded(7),
    ...over,
  };
}

export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  return createCoordinator(options);
}

export function fakeClient(coordinator: Coordinator, auth: Record<string, unknown> = { token: CLIENT_TOKEN }): FakeClient {
  return connect(coordinator.url, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth });
}

/** A client outside the event maps, for sending what a typed client cannot. */
export function rawClient(coordinator: Coordinator, auth: Record<string, unknown> = { token: CLIENT_TOKEN }): Socket {
  return connect(coordinator.url, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth });
}

export function connected(client: Socket | FakeClient): Promise<void> {
  // reserved events are typed alike on every Socket instantiation
  const socket = client as Socket;
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export async function joinedClient(
  coordinator: Coordinator,
  clientId?: string,
): Promise<{ client: FakeClient; ack: JoinAck; starts: RoundStart[]; ends: RoundEnd[] }> {
  const client = fakeClient(coordinator, clientId ? { token: CLIENT_TOKEN, clientId } : { token: CLIENT_TOKEN });
  const starts: RoundStart[] = [];
  const ends: RoundEnd[] = [];
  client.on('round:start', (start) => starts.push(start));
  client.on('round:end', (end) => ends.push(end));
  await connected(client);
  const ack = await client.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' }, ready: readyFor(coordinator) });
  return { client, ack, starts, ends };
}

/** What a client that has the backbone and data of `coordinator`'s task says in `join.ready` or `ready`. */
export function readyFor(coordinator: Coordinator, examples = 8): { taskId: string; backbone: string; examples: number } {
  return { taskId: coordinator.task.taskId, backbone: coordinator.task.backbone.sha256, examples };
}

export function nextRoundEnd(client: FakeClient): Promise<RoundEnd> {
  return new Promise((resolve) => client.once('round:end', resolve));
}

export function nextError(client: FakeClient): Promise<ErrorEvent> {
  return new Promise((resolve) => client.once('error', resolve));
}

export function waitFor<T>(get: () => T | undefined, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const value = get();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`waitFor() gave up after ${timeoutMs} ms`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

/** An update that matches the state of `start`: every value + `delta`. */
export function updateFor(start: RoundStart, delta = 1, over: Partial<Update> = {}): Update {
  const tensors = start.state.map((t) => {
    const values = new Float32Array(t.data.slice().buffer).map((v) => v + delta);
    return encodeTensor(t.name, t.shape, values);
  });
  return { taskId: start.taskId, round: start.round, tensors, numExamples: 4, metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 10, seconds: 1 }, ...over };
}
