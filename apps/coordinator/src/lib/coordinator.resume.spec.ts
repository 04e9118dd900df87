import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Coordinator } from './coordinator';
import { coordinatorOptions, joinedClient, makeStateDir, nextRoundEnd, startCoordinator, updateFor, waitFor, type FakeClient } from './coordinator.testing';

const ROUNDS = { minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 50, totalRounds: 3 };

describe('coordinator resume', () => {
  let dir: Awaited<ReturnType<typeof makeStateDir>>;
  const running: Coordinator[] = [];
  const clients: FakeClient[] = [];

  const start = async () => {
    const coordinator = await startCoordinator(coordinatorOptions(dir.dir, dir.weightsPath, { autoStart: true, rounds: ROUNDS }));
    running.push(coordinator);
    return coordinator;
  };

  beforeEach(async () => {
    dir = await makeStateDir();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    for (const c of running.splice(0)) await c.close();
    await dir.cleanup();
  });

  it('resumes after restart from the latest checkpoint', async () => {
    const first = await start();
    const a = await joinedClient(first, 'c-1');
    clients.push(a.client);
    const ended = nextRoundEnd(a.client);
    await a.client.timeout(3000).emitWithAck('update', updateFor(await waitFor(() => a.starts[0]), 2));
    await ended;
    a.client.disconnect();
    await running.pop()?.close();

    const second = await start();
    const b = await joinedClient(second, 'c-1');
    clients.push(b.client);
    const resumed = await waitFor(() => b.starts[0]);
    // round 1 was open when the first coordinator stopped: its journal reopens it at once
    expect([b.ack.ok && b.ack.currentRound, resumed.round, Array.from(new Float32Array(resumed.state[1].data.slice().buffer))]).toEqual([1, 1, [2, 2]]);
  });

  it('keeps the round history across a restart', async () => {
    const first = await start();
    const a = await joinedClient(first, 'c-1');
    clients.push(a.client);
    const ended = nextRoundEnd(a.client);
    await a.client.timeout(3000).emitWithAck('update', updateFor(await waitFor(() => a.starts[0]), 1));
    await ended;
    a.client.disconnect();
    await running.pop()?.close();
    const second = await start();
    expect(second.status().roundsCompleted).toBe(1);
  });

  it('re-sends round:start to a selected client that reconnects', async () => {
    const coordinator = await start();
    const a = await joinedClient(coordinator, 'c-1');
    const original = await waitFor(() => a.starts[0]);
    a.client.disconnect();
    const b = await joinedClient(coordinator, 'c-1');
    clients.push(b.client);
    const again = await waitFor(() => b.starts[0]);
    expect([again.round, again.seed, again.deadline]).toEqual([original.round, original.seed, original.deadline]);
    expect(await b.client.timeout(3000).emitWithAck('update', updateFor(again, 1))).toEqual({ ok: true });
  });

  it('refuses a stateDir it cannot write, in one line', async () => {
    await writeFile(join(dir.dir, 'file'), 'x');
    const options = coordinatorOptions(dir.dir, dir.weightsPath, { stateDir: join(dir.dir, 'file', 'state') });
    await expect(startCoordinator(options)).rejects.toThrow(/^stateDir passed to createCoordinator\(\) \S+ is not a writable folder \(ENOTDIR\): [^\n]+$/);
  });

  it('refuses a stateDir of another task', async () => {
    const first = await start();
    const a = await joinedClient(first, 'c-1');
    clients.push(a.client);
    await waitFor(() => a.starts[0]);
    const options = coordinatorOptions(dir.dir, dir.weightsPath, { port: 0 });
    await expect(startCoordinator({ ...options, task: { ...options.task, taskId: 'task-2' } })).rejects.toThrow(
      'stateDir passed to createCoordinator() holds checkpoints of task task-1 but the task is task-2; use another stateDir',
    );
  });
});
