import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore, type RoundRecord } from './history';

const record = (round: number): RoundRecord => ({ round, status: 'aggregated', selected: ['c'], updates: 1, rejected: 0, startedAt: 1, closedAt: 2, metrics: {} });

describe('HistoryStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-history-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

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

  it('truncates rounds a checkpoint has not reached', async () => {
    const store = new HistoryStore(dir);
    await store.append(record(0));
    await store.append(record(1));
    store.truncate(1);
    expect(store.list().map((r) => r.round)).toEqual([0]);
  });
});
