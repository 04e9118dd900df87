import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '@fedsnell/tensor-io';
import { CheckpointStore, checkpointName } from './checkpoints';
import { silentLogger } from './options';

const state = (v: number) => new Map([['head.bias', { shape: [2], data: new Float32Array([v, v + 1]) }]]);

describe('CheckpointStore', () => {
  let dir: string;
  let store: CheckpointStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-ckpt-'));
    store = new CheckpointStore(dir, (round) => ({ format: 'fedsnell-adapter', version: 1, round }), silentLogger);
    await store.init();
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns null when empty', async () => {
    expect(await store.latest()).toBeNull();
  });

  it('loads the newest round', async () => {
    await store.save(state(1), { round: 1, taskId: 't', createdAt: 5 });
    await store.save(state(2), { round: 2, taskId: 't', createdAt: 6 });
    const latest = await store.latest();
    expect([latest?.info.round, Array.from(latest?.state.get('head.bias')?.data ?? [])]).toEqual([2, [2, 3]]);
  });

  it('writes adapter metadata', async () => {
    await store.save(state(1), { round: 1, taskId: 't', createdAt: 5 });
    const parsed = parseSafetensors((await store.bytes(1)) as Uint8Array);
    expect(JSON.parse(parsed.metadata.fedsnell)).toEqual({ format: 'fedsnell-adapter', version: 1, round: 1 });
  });

  it('leaves no temp files', async () => {
    await store.save(state(1), { round: 1, taskId: 't', createdAt: 5 });
    expect(await readdir(dir)).toEqual([checkpointName(1)]);
  });

  it('skips a torn newest file', async () => {
    await store.save(state(1), { round: 1, taskId: 't', createdAt: 5 });
    await writeFile(join(dir, checkpointName(2)), new Uint8Array([1, 2, 3]));
    expect((await store.latest())?.info.round).toBe(1);
  });
});
