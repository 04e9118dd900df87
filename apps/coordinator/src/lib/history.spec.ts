import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore, type RoundRecord } from './history';
import { silentLogger } from './options';
import { nodeStateWriter, type StateWriter } from './state-files';

const record = (round: number): RoundRecord => ({ round, status: 'aggregated', selected: ['c'], updates: 1, rejected: 0, startedAt: 1, closedAt: 2, metrics: {} });

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('HistoryStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-history-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const onDisk = async () => (JSON.parse(await readFile(join(dir, 'rounds.json'), 'utf8')) as RoundRecord[]).map((r) => r.round);

  it('persists appended rounds', async () => {
    await new HistoryStore(dir).append(record(0));
    const reloaded = new HistoryStore(dir);
    await reloaded.load();
    expect(reloaded.list().map((r) => r.round)).toEqual([0]);
  });

  it('replaces a round recorded twice', async () => {
    const store = new HistoryStore(dir);
    await store.append(record(0));
    await store.append({ ...record(0), status: 'kept' });
    expect(store.list().map((r) => r.status)).toEqual(['kept']);
  });

  it('lists a round only once rounds.json holds it', async () => {
    let full = false;
    const disk: StateWriter = { ...nodeStateWriter, writeAtomic: async (path, bytes) => (full ? Promise.reject(enospc()) : nodeStateWriter.writeAtomic(path, bytes)) };
    const store = new HistoryStore(dir, disk);
    await store.append(record(0));
    full = true;
    await expect(store.append(record(1))).rejects.toThrow('ENOSPC');
    expect([store.list().map((r) => r.round), await onDisk()]).toEqual([[0], [0]]);
  });

  it('keeps only rounds a resumed checkpoint has reached', async () => {
    const store = new HistoryStore(dir);
    await store.append(record(0));
    await store.append(record(1));
    await store.restore(1, []);
    expect([store.list().map((r) => r.round), await onDisk()]).toEqual([[0], [0]]);
  });

  it('completes itself from the records the checkpoints hold', async () => {
    const store = new HistoryStore(dir);
    await store.append(record(0));
    await store.restore(3, [record(0), record(1), record(2)]);
    expect([store.list().map((r) => r.round), await onDisk()]).toEqual([[0, 1, 2], [0, 1, 2]]);
  });

  it('rebuilds an unreadable rounds.json from the checkpoints', async () => {
    await writeFile(join(dir, 'rounds.json'), '[{"round": 0,');
    const store = new HistoryStore(dir);
    await store.load(silentLogger);
    await store.restore(1, [record(0)]);
    expect(await onDisk()).toEqual([0]);
  });
});
