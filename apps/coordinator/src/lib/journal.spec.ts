import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalName, UpdateJournal, type RoundOpening } from './journal';
import type { Logger } from './options';
import { nodeStateWriter } from './state-files';

const opening: RoundOpening = { round: 3, taskId: 't', selected: ['a', 'b'], seed: 42, draws: 3, startedAt: 1000 };
const update = (clientId: string, v: number) => ({
  update: { clientId, numExamples: 4, metrics: { loss: 0.5 }, state: new Map([['head.bias', { shape: [2], data: new Float32Array([v, v + 1]) }]]) },
  stale: false,
});

describe('UpdateJournal', () => {
  let dir: string;
  let warnings: string[];
  let journal: UpdateJournal;
  const logger: Logger = { info: () => undefined, error: () => undefined, warn: (message, fields) => warnings.push(`${message} ${fields?.['reason']}`) };
  const file = () => join(dir, 'wal', journalName(3));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-journal-'));
    warnings = [];
    journal = new UpdateJournal(dir, nodeStateWriter, logger);
    await journal.begin(opening);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replays the opening and every update', async () => {
    await journal.append(3, update('a', 1));
    await journal.append(3, update('b', 5));
    const replayed = await journal.replay(3);
    const b = replayed?.updates[1].update;
    expect([replayed?.opening, replayed?.updates.length, b?.clientId, b?.metrics, Array.from(b?.state.get('head.bias')?.data ?? [])]).toEqual([opening, 2, 'b', { loss: 0.5 }, [5, 6]]);
  });

  it('skips a torn last record with one log line', async () => {
    await journal.append(3, update('a', 1));
    await journal.append(3, update('b', 5));
    const bytes = await readFile(file());
    await writeFile(file(), bytes.subarray(0, bytes.length - 7));
    const replayed = await journal.replay(3);
    expect([replayed?.updates.map((u) => u.update.clientId), warnings.length]).toEqual([['a'], 1]);
  });

  it('skips a corrupt record and keeps the ones after it', async () => {
    await journal.append(3, update('a', 1));
    const cut = (await readFile(file())).length;
    await journal.append(3, update('b', 5));
    const bytes = await readFile(file());
    bytes[cut - 3] ^= 0xff; // inside a's payload
    await writeFile(file(), bytes);
    const replayed = await journal.replay(3);
    expect([replayed?.updates.map((u) => u.update.clientId), warnings]).toEqual([['b'], ['skipping a torn or corrupt journal record checksum mismatch']]);
  });

  it('ignores bytes that are no record at all', async () => {
    await appendFile(file(), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
    await journal.append(3, update('a', 1));
    expect((await journal.replay(3))?.updates.map((u) => u.update.clientId)).toEqual(['a']);
  });

  it('lists and discards rounds', async () => {
    await journal.begin({ ...opening, round: 4 });
    await journal.discard(3);
    expect(await journal.rounds()).toEqual([4]);
  });
});
