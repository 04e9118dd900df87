import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fedAvg, type Strategy } from '@fedsnell/federation';
import { resolveLimits, type RoundEnd, type RoundStart } from '@fedsnell/protocol';
import { CheckpointStore } from './checkpoints';
import { initialState, seeded, updateFor, waitFor } from './coordinator.testing';
import { FlakyDisk } from './disk.testing';
import { FakeClock } from './fake-clock.testing';
import { HistoryStore } from './history';
import { UpdateJournal } from './journal';
import { resolveRounds, silentLogger } from './options';
import { recoverState } from './recovery';
import { RoundLoop } from './round-loop';

describe('RoundLoop durability', () => {
  let dir: string;
  let clock: FakeClock;
  let disk: FlakyDisk;
  let joined: string[];
  let announced: { ids: readonly string[]; start: RoundStart }[];
  let ended: RoundEnd[];
  let loops: RoundLoop[];
  let stores: { checkpoints: CheckpointStore; history: HistoryStore; journal: UpdateJournal };
  /** `round:clientId` of every update the strategy's per-update step saw, per boot */
  let accepted: string[][];
  /** the strategy's configure step, when a test gives one */
  let configure: Strategy['configure'];

  /** A coordinator start on `dir`: recovery, then a loop (every test may start several in turn). */
  async function boot(): Promise<RoundLoop> {
    stores = {
      checkpoints: new CheckpointStore(dir, () => ({}), silentLogger, disk),
      history: new HistoryStore(dir, disk),
      journal: new UpdateJournal(dir, disk, silentLogger),
    };
    const seen: string[] = [];
    accepted.push(seen);
    const strategy: Strategy = { ...fedAvg(), accept: (ctx, update) => seen.push(`${ctx.round}:${update.clientId}`), ...(configure ? { configure } : {}) };
    const resume = await recoverState({ stateDir: dir, taskId: 'task-1', initialState: initialState(), strategy, ...stores, logger: silentLogger });
    const loop = new RoundLoop({
      taskId: 'task-1',
      dtype: 'f32',
      limits: resolveLimits(),
      rounds: resolveRounds({ minClients: 2, maxClients: 2, minReplies: 2, graceMs: 500, roundTimeoutMs: 10_000, waitForClientsMs: 1000, totalRounds: 1 }),
      strategy,
      evaluate: async () => ({ accuracy: 1 }),
      ...stores,
      persistRetryMs: 1000,
      clock,
      rng: seeded(1),
      roundRng: (round) => seeded(100 + round),
      logger: silentLogger,
      transport: {
        joinedClients: () => joined,
        announce: (ids, start) => announced.push({ ids, start }),
        finish: (end) => ended.push(end),
      },
      resume,
    });
    loops.push(loop);
    loop.start();
    return loop;
  }

  const paused = (loop: RoundLoop) => waitFor(() => (loop.loopState === 'paused' ? true : undefined));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-durable-'));
    clock = new FakeClock();
    disk = new FlakyDisk();
    joined = ['c-1', 'c-2'];
    announced = [];
    ended = [];
    loops = [];
    accepted = [];
    configure = undefined;
  });

  afterEach(async () => {
    for (const loop of loops) await loop.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges and lists an update only once the journal holds it', async () => {
    const loop = await boot();
    const { start } = await waitFor(() => announced[0]);
    let release!: () => void;
    disk.hold = new Promise((resolve) => (release = resolve));
    let answered = false;
    const ack = loop.submit('c-1', updateFor(start, 1)).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = [answered, loop.openRecord()?.updates];
    release();
    const after = [await ack, loop.openRecord()?.updates, (await stores.journal.replay(0))?.updates.map((u) => u.update.clientId)];
    expect([before, after]).toEqual([[false, 0], [{ ok: true }, 1, ['c-1']]]);
  });

  it('refuses an update the journal cannot store, and takes it when sent again', async () => {
    const loop = await boot();
    const { start } = await waitFor(() => announced[0]);
    disk.failure = 'ENOSPC';
    const refused = await loop.submit('c-1', updateFor(start, 1));
    disk.failure = null;
    expect([refused.ok || refused.error.code, await loop.submit('c-1', updateFor(start, 1))]).toEqual(['INTERNAL', { ok: true }]);
  });

  it.each(['ENOSPC', 'EACCES', 'EROFS'])('keeps a round whose checkpoint fails with %s and closes it once writing works', async (code) => {
    const loop = await boot();
    const { start } = await waitFor(() => announced[0]);
    disk.failure = code;
    disk.failWhen = (path) => path.endsWith('round-000001.safetensors');
    await loop.submit('c-1', updateFor(start, 1));
    await loop.submit('c-2', updateFor(start, 3));
    await paused(loop);
    const whilePaused = [ended.length, stores.history.list().length];
    disk.failure = null;
    clock.advance(1000);
    const end = await waitFor(() => ended[0]);
    const info = await stores.checkpoints.info(1);
    expect([whilePaused, end.status, end.updates, stores.history.list().map((r) => r.round), info.closed?.round]).toEqual([[0, 0], 'aggregated', 2, [0], 0]);
  });

  it('lists a closed round only once rounds.json holds it', async () => {
    const loop = await boot();
    const { start } = await waitFor(() => announced[0]);
    disk.failure = 'ENOSPC';
    disk.failWhen = (path) => path.endsWith('rounds.json');
    await loop.submit('c-1', updateFor(start, 1));
    await loop.submit('c-2', updateFor(start, 1));
    await paused(loop);
    const whilePaused = [ended.length, stores.history.list().length, (await stores.checkpoints.info(1)).closed?.round];
    disk.failure = null;
    loop.start();
    await waitFor(() => ended[0]);
    expect([whilePaused, stores.history.list().map((r) => r.round)]).toEqual([[0, 0, 0], [0]]);
  });

  it('reopens an interrupted round with its acknowledged updates and its selection', async () => {
    const first = await boot();
    const { start } = await waitFor(() => announced[0]);
    await first.submit('c-1', updateFor(start, 1));
    await first.close();
    joined = [];
    const second = await boot();
    const again = await waitFor(() => announced[1]);
    // c-1 lost its ack in the crash and sends again: its journaled update stands
    const resent = await second.submit('c-1', updateFor(again.start, 1));
    const ack = await second.submit('c-2', updateFor(again.start, 3));
    const end = await waitFor(() => ended[0]);
    const global = Array.from(second.globalState.get('head.bias')?.data ?? []);
    expect([again.ids, again.start.round, again.start.seed === start.seed, resent.ok || resent.error.code, ack, end.updates, global]).toEqual([
      ['c-1', 'c-2'], 0, true, 'DUPLICATE', { ok: true }, 2, [2, 2],
    ]);
  });

  it("announces the strategy's clients and trainer settings, and a restart reopens the round with the journaled ones", async () => {
    let calls = 0;
    configure = (ctx) => ({ clients: [...ctx.candidates].slice(calls), overrides: { proximalMu: 0.01, lr: 0.5 ** (ctx.round + calls++) } });
    const first = await boot();
    const { ids, start } = await waitFor(() => announced[0]);
    await first.close();
    const second = await boot();
    const again = await waitFor(() => announced[1]);
    await second.close();
    expect([ids, start.overrides, again.ids, again.start.overrides, calls]).toEqual([['c-1', 'c-2'], { proximalMu: 0.01, lr: 1 }, ['c-1', 'c-2'], { proximalMu: 0.01, lr: 1 }, 1]);
  });

  it('sends no overrides when the strategy has no configure step', async () => {
    await boot();
    expect((await waitFor(() => announced[0])).start.overrides).toBeUndefined();
  });

  it("gives the strategy's per-update step each stored update once: acknowledged, replayed at restart, never a refused one", async () => {
    const first = await boot();
    const { start } = await waitFor(() => announced[0]);
    disk.failure = 'ENOSPC';
    await first.submit('c-2', updateFor(start, 3));
    disk.failure = null;
    await first.submit('c-1', updateFor(start, 1));
    await first.close();
    joined = [];
    const second = await boot();
    const again = await waitFor(() => announced[1]);
    await second.submit('c-1', updateFor(again.start, 1));
    await second.submit('c-2', updateFor(again.start, 3));
    await waitFor(() => ended[0]);
    expect(accepted).toEqual([['0:c-1'], ['0:c-1', '0:c-2']]);
  });

  it('aggregates at restart a round whose selected clients were all acknowledged', async () => {
    const first = await boot();
    const { start } = await waitFor(() => announced[0]);
    disk.failure = 'ENOSPC';
    disk.failWhen = (path) => path.endsWith('.safetensors');
    await first.submit('c-1', updateFor(start, 1));
    await first.submit('c-2', updateFor(start, 3));
    await paused(first);
    await first.close();
    disk.failure = null;
    joined = [];
    await boot();
    const end = await waitFor(() => ended[0]);
    expect([end.status, end.updates, stores.history.list().map((r) => [r.round, r.updates]), announced.length]).toEqual(['aggregated', 2, [[0, 2]], 2]);
  });
});
