import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fedAvg } from '@fedsnell/federation';
import { resolveLimits, type RoundEnd, type RoundStart } from '@fedsnell/protocol';
import { CheckpointStore, checkpointName } from './checkpoints';
import { initialState, seeded, updateFor, waitFor } from './coordinator.testing';
import { HistoryStore } from './history';
import { UpdateJournal } from './journal';
import { FakeClock } from './fake-clock.testing';
import { resolveRounds, silentLogger, type RoundOptions } from './options';
import { RoundLoop } from './round-loop';
import { nodeStateWriter } from './state-files';

describe('RoundLoop', () => {
  let dir: string;
  let clock: FakeClock;
  let joined: string[];
  let announced: { ids: readonly string[]; start: RoundStart; checkpointed: boolean }[];
  let ended: RoundEnd[];
  let loop: RoundLoop;

  function makeLoop(rounds: Partial<RoundOptions>, checkpointDir = dir) {
    loop = new RoundLoop({
      taskId: 'task-1',
      dtype: 'f32',
      limits: resolveLimits(),
      rounds: resolveRounds({ minClients: 1, minReplies: 1, graceMs: 500, roundTimeoutMs: 10_000, waitForClientsMs: 1000, totalRounds: 2, ...rounds }),
      strategy: fedAvg(),
      evaluate: async () => ({ accuracy: 1 }),
      checkpoints: new CheckpointStore(checkpointDir, () => ({}), silentLogger),
      history: new HistoryStore(dir),
      journal: new UpdateJournal(dir, nodeStateWriter, silentLogger),
      clock,
      rng: seeded(1),
      logger: silentLogger,
      transport: {
        joinedClients: () => joined,
        announce: (ids, start) => announced.push({ ids, start, checkpointed: existsSync(join(dir, checkpointName(start.round))) }),
        finish: (end) => ended.push(end),
      },
      resume: { round: 0, global: initialState(), checkpointed: false },
    });
    return loop;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-loop-'));
    clock = new FakeClock();
    joined = ['c-1', 'c-2'];
    announced = [];
    ended = [];
  });

  afterEach(async () => {
    await loop.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('checkpoints before it announces', async () => {
    makeLoop({}).start();
    expect((await waitFor(() => announced[0])).checkpointed).toBe(true);
  });

  it('pauses instead of announcing when the checkpoint cannot be written', async () => {
    makeLoop({}, join(dir, 'missing')).start();
    await waitFor(() => (loop.loopState === 'paused' ? true : undefined));
    expect(announced).toEqual([]);
  });

  it('closes at the deadline without replies', async () => {
    makeLoop({}).start();
    await waitFor(() => announced[0]);
    clock.advance(10_001);
    expect((await waitFor(() => ended[0])).status).toBe('kept');
  });

  it('closes after the grace once minReplies arrived', async () => {
    makeLoop({}).start();
    const { start } = await waitFor(() => announced[0]);
    expect(await loop.submit('c-1', updateFor(start, 1))).toEqual({ ok: true });
    clock.advance(499);
    const closedEarly = loop.openRound;
    clock.advance(1);
    expect([closedEarly, (await waitFor(() => ended[0])).status]).toEqual([0, 'aggregated']);
  });

  it('closes at once when every selected client replied', async () => {
    makeLoop({}).start();
    const { start } = await waitFor(() => announced[0]);
    await loop.submit('c-1', updateFor(start, 1));
    await loop.submit('c-2', updateFor(start, 1));
    expect((await waitFor(() => ended[0])).updates).toBe(2);
  });

  it('waits for enough clients, then starts when woken', async () => {
    joined = [];
    makeLoop({}).start();
    await new Promise((r) => setTimeout(r, 20));
    const before = announced.length;
    joined = ['c-1'];
    loop.wake();
    expect([before, (await waitFor(() => announced[0])).ids]).toEqual([0, ['c-1']]);
  });

  it('pauses at the round boundary', async () => {
    makeLoop({}).start();
    await waitFor(() => announced[0]);
    loop.pause();
    clock.advance(10_001);
    await waitFor(() => ended[0]);
    await new Promise((r) => setTimeout(r, 20));
    expect([announced.length, loop.loopState]).toEqual([1, 'paused']);
  });

  it('finishes after totalRounds', async () => {
    makeLoop({ totalRounds: 1 }).start();
    const { start } = await waitFor(() => announced[0]);
    await loop.submit('c-1', updateFor(start, 1));
    await loop.submit('c-2', updateFor(start, 1));
    await waitFor(() => (loop.loopState === 'finished' ? true : undefined));
    expect(announced).toHaveLength(1);
  });

  it('refuses updates after close with LATE', async () => {
    makeLoop({ totalRounds: 1 }).start();
    const { start } = await waitFor(() => announced[0]);
    clock.advance(10_001);
    await waitFor(() => ended[0]);
    expect(await loop.submit('c-1', updateFor(start, 1))).toEqual({ ok: false, error: { code: 'LATE', message: 'update for round 0 arrived after the round closed' } });
  });
});
