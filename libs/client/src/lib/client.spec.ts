// The core over a fake platform: no tfjs, no files. What a browser shell supplies is exactly this.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensor, encodeTensor, type RoundStart, type Task } from '@fedsnell/protocol';
import { FakeCoordinator, waitFor } from '../testing/fake-coordinator';
import { createClient, type ClientOptions } from './client';
import { ClientError } from './errors';
import type { ClientEvent } from './events';
import type { BackboneCache, ClientShell, DataSource, LocalData, TrainingBackend } from './seams';

const TOKEN = 't0k';
const BACKBONE = new Uint8Array([1, 2, 3]);
const config = JSON.parse(readFileSync(join(process.env['FEDSNELL_FIXTURE_DIR'] as string, 'config.json'), 'utf8')) as Record<string, unknown>;

const task: Task = {
  taskId: 'task-1',
  backbone: { sha256: 'a'.repeat(64), url: '/backbone/model.safetensors', configUrl: '/backbone/config.json', bytes: BACKBONE.length, config },
  snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, targets: [] },
  trainer: { epochs: 1, batchSize: 4, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 0 },
  data: { classes: ['a', 'b'] },
  updateDtype: 'f32',
};
const round = (): RoundStart => ({ taskId: 'task-1', round: 0, deadline: Date.now() + 30_000, seed: 1, state: [encodeTensor('head.bias', [2], new Float32Array([1, 2]))] });

const memoryCache: BackboneCache = {
  fetch: async () => ({ bytes: BACKBONE, cached: true, downloadedBytes: 0, location: 'memory' }),
  discard: async () => undefined,
};
const pickedFolder: DataSource = {
  open: async () => ({ location: 'picked folder', classes: ['a', 'b'], size: 6, skipped: [{ name: 'a/broken.png', reason: 'corrupt PNG' }] }),
};
/** Adds 1 to every value; `fail` makes training throw instead. */
function addOne(fail?: Error): TrainingBackend<LocalData> {
  return {
    init: async () => 'fake',
    load: async () => ({
      plan: () => ({ totalSteps: 2 }),
      train: async ({ initial }) => {
        if (fail) throw fail;
        const state = new Map([...initial].map(([name, t]) => [name, { shape: t.shape, data: t.data.map((v) => v + 1) }]));
        return { state, metrics: { loss: 0.5, accuracy: 0.75, examples: 6, steps: 2, seconds: 0.01, examplesPerSecond: 600 } };
      },
      dispose: () => undefined,
    }),
  };
}

describe('createClient over a fake platform', () => {
  let fake: FakeCoordinator;

  beforeEach(async () => {
    fake = await new FakeCoordinator({ token: TOKEN, task, backbone: BACKBONE, round }).listen();
  });

  afterEach(() => fake.close());

  function start(backend: TrainingBackend<LocalData>, events: ClientEvent[], over: Partial<ClientOptions> = {}) {
    const shell: ClientShell = { platform: 'browser', userAgent: 'spec', backbones: memoryCache, data: pickedFolder, backend };
    return createClient({ server: fake.url, token: TOKEN, maxRounds: 1, onEvent: (e) => events.push(e), ...over }, shell);
  }

  it('trains through the seams and delivers the update', async () => {
    const events: ClientEvent[] = [];
    const result = await start(addOne(), events).start();
    expect(result.rounds).toEqual([expect.objectContaining({ round: 0, outcome: 'accepted', numExamples: 6 })]);
    expect(Array.from(decodeTensor(fake.updates[0].tensors[0]))).toEqual([2, 3]);
    expect([fake.joins[0].request.capabilities, fake.ready]).toEqual([{ backend: 'fake', platform: 'browser', userAgent: 'spec', dtypes: ['f32', 'f16'] }, [{ taskId: 'task-1', backbone: 'a'.repeat(64), examples: 6 }]]);
    expect(events.find((e) => e.type === 'data')).toEqual({ type: 'data', location: 'picked folder', examples: 6, skipped: 1, firstSkipped: 'a/broken.png: corrupt PNG' });
  });

  it('reports a round the backend cannot train with round:failed', async () => {
    const events: ClientEvent[] = [];
    const client = start(addOne(new ClientError('TRAINING', 'out of GPU memory')), events);
    const run = client.start();
    await waitFor(() => events.some((e) => e.type === 'round:failed'));
    await client.stop();
    expect([(await run).rounds.map((r) => r.outcome), fake.failures]).toEqual([['failed'], [{ taskId: 'task-1', round: 0, reason: 'TRAINING', message: 'out of GPU memory' }]]);
  });

  it('refuses a non-http server URL with an OPTIONS error', () => {
    const attempt = () => start(addOne(), [], { server: 'ftp://x' });
    expect(attempt).toThrow(ClientError);
    expect(attempt).toThrow("server passed to createClient() must be an http: or https: URL but got 'ftp://x'");
  });
});
