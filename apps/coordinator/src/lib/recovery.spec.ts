import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fedAvg } from '@fedsnell/federation';
import { CheckpointStore } from './checkpoints';
import { initialState } from './coordinator.testing';
import { HistoryStore, type RoundRecord } from './history';
import { journalName, UpdateJournal } from './journal';
import { silentLogger } from './options';
import { recoverState } from './recovery';
import { nodeStateWriter, prepareStateDir } from './state-files';

const record = (round: number): RoundRecord => ({ round, status: 'aggregated', selected: ['c'], updates: 1, rejected: 0, startedAt: 1, closedAt: 2, metrics: {} });

describe('recoverState', () => {
  let dir: string;
  let checkpoints: CheckpointStore;
  let history: HistoryStore;
  let journal: UpdateJournal;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-recover-'));
    checkpoints = new CheckpointStore(dir, () => ({}), silentLogger);
    history = new HistoryStore(dir);
    journal = new UpdateJournal(dir, nodeStateWriter, silentLogger);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const recover = () => recoverState({ stateDir: dir, taskId: 't', initialState: initialState(), strategy: fedAvg(), checkpoints, history, journal, logger: silentLogger });
  const save = (round: number) => checkpoints.save(initialState(), { round, taskId: 't', createdAt: 1, ...(round > 0 ? { closed: record(round - 1) } : {}) });

  it('removes temp files an interrupted write left', async () => {
    await mkdir(join(dir, 'wal'));
    await writeFile(join(dir, '.round-000001.safetensors.123.abc.tmp'), 'torn');
    await writeFile(join(dir, 'wal', '.round-000001.journal.123.abc.tmp'), 'torn');
    await recover();
    const left = [...(await readdir(dir)), ...(await readdir(join(dir, 'wal')))].filter((n) => n.endsWith('.tmp'));
    expect(left).toEqual([]);
  });

  it('completes the history from a checkpoint whose rounds.json write a crash cut off', async () => {
    await save(0);
    await save(1);
    await history.append(record(0));
    await save(2);
    const resume = await recover();
    const onDisk = JSON.parse(await readFile(join(dir, 'rounds.json'), 'utf8')) as RoundRecord[];
    expect([resume.round, history.list().map((r) => r.round), onDisk.map((r) => r.round)]).toEqual([2, [0, 1], [0, 1]]);
  });

  it('removes the journal of a round a checkpoint already records and reopens the open one', async () => {
    const opening = { taskId: 't', selected: ['c'], seed: 1, draws: 2, startedAt: 5 };
    await save(0);
    await journal.begin({ ...opening, round: 0 });
    await save(1);
    await journal.begin({ ...opening, round: 1 });
    const resume = await recover();
    expect([await readdir(join(dir, 'wal')), resume.replay?.opening.round]).toEqual([[journalName(1)], 1]);
  });

  it('refuses a journal of another task', async () => {
    await save(0);
    await journal.begin({ round: 0, taskId: 'other', selected: ['c'], seed: 1, draws: 2, startedAt: 5 });
    expect((await recover()).replay).toBeUndefined();
  });
});

describe('prepareStateDir', () => {
  it('refuses a folder it cannot write with one line naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedsnell-state-'));
    try {
      await writeFile(join(dir, 'file'), 'x');
      const error = await prepareStateDir(join(dir, 'file', 'state'), '--state', silentLogger).catch((e: Error) => e);
      expect(String(error)).toMatch(/^Error: --state \S+ is not a writable folder \(ENOTDIR\): [^\n]+ or pass another --state$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
