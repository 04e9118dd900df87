import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImageFolder } from '@fedsnell/data/node';
import { decodeAdapter } from '@fedsnell/snell';
import { FedsnellProcess, freePort, sleep, until } from './testing/processes';
import { FIXTURE, REPO, runCli } from './testing/run-cli';

const ADMIN = 'admin-token-e2e';
const CLIENT = 'client-token-e2e';

interface RoundRecord {
  round: number;
  status: string;
  updates: number;
  startedAt: number;
  closedAt: number;
  metrics: Record<string, number>;
  gaps?: Record<string, number>;
}

let dir: string;
/** round-0 gaps of factor averaging in the main run (same clients, data and seeds as the SNELL-exact run) */
let fedavgRound0Gaps: Record<string, number> | undefined;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-e2e-'));
  // three clients with disjoint digits from the mnist package, and a held-out evaluation set
  for (let k = 0; k < 3; k++) await exportImageFolder('mnist', join(dir, `client-${k}`), { perClass: 3, offset: 3 * k });
  await exportImageFolder('mnist', join(dir, 'client-big'), { perClass: 150, offset: 20 });
  await exportImageFolder('mnist', join(dir, 'eval'), { perClass: 2, offset: 100 });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeTask(name: string, task: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(task));
  return path;
}

const baseTask = {
  seed: 3,
  snell: { rank: 4, sparsity: 0.5 },
  trainer: { epochs: 1, batchSize: 8, lr: 0.01, adapterDropout: 0, dropPath: 0 },
  eval: { batchSize: 32 },
};

function startCoordinator(task: string, state: string, port: number): FedsnellProcess {
  return new FedsnellProcess([
    'coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--task', task, '--state', state,
    '--port', String(port), '--client-token', CLIENT, '--admin-token', ADMIN, '--backend', 'wasm',
  ]);
}

function startClient(port: number, data: string, id: string, rounds: number): FedsnellProcess {
  return new FedsnellProcess([
    'client', '--server', `http://127.0.0.1:${port}`, '--token', CLIENT, '--data', data, '--client-id', id,
    '--backend', 'wasm', '--cache', join(dir, `cache-${id}`), '--rounds', String(rounds), '--json',
  ]);
}

async function rounds(port: number): Promise<RoundRecord[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/rounds`, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`GET /api/rounds: ${res.status}`);
  const body = (await res.json()) as { rounds: RoundRecord[] };
  // closed rounds only (the open one is listed too, with status 'open')
  return body.rounds.filter((r) => r.status !== 'open');
}

describe('federated run on loopback: coordinator + 3 Node clients', () => {
  it('runs 3 rounds, evaluates each, and serves the last checkpoint as the adapter', async () => {
    const port = await freePort();
    const state = join(dir, 'state-main');
    const task = await writeTask('main', {
      ...baseTask,
      taskId: 'e2e-main',
      rounds: { totalRounds: 3, minClients: 3, maxClients: 3, minReplies: 3, graceMs: 200, roundTimeoutMs: 60_000, waitForClientsMs: 60_000 },
    });
    const coordinator = startCoordinator(task, state, port);
    try {
      await coordinator.waitFor('coordinator listening');
      const clients = [0, 1, 2].map((k) => startClient(port, join(dir, `client-${k}`), `node-${k}`, 3));
      const codes = await Promise.all(clients.map((c) => c.exited));
      expect(codes).toEqual([0, 0, 0]);
      const summaries = clients.map((c) => JSON.parse(c.stdout.trim().split('\n').pop() ?? '{}'));
      for (const s of summaries) expect(s.rounds.filter((r: { outcome: string }) => r.outcome === 'accepted')).toHaveLength(3);

      const history = await until(async () => {
        const r = await rounds(port);
        return r.length === 3 ? r : undefined;
      }, '3 closed rounds');
      expect(history.map((r) => [r.round, r.status, r.updates])).toEqual([
        [0, 'aggregated', 3],
        [1, 'aggregated', 3],
        [2, 'aggregated', 3],
      ]);
      fedavgRound0Gaps = history[0].gaps;
      for (const r of history) {
        expect(r.metrics['count']).toBe(20);
        expect(r.metrics['accuracy']).toBeGreaterThanOrEqual(0);
        expect(r.metrics['accuracy']).toBeLessThanOrEqual(1);
        // the aggregation gap of factor averaging is measured for every module, every round
        expect(Object.keys(r.gaps ?? {})).toHaveLength(12);
      }

      const out = join(dir, 'pulled.safetensors');
      const pulled = await runCli(['pull', '--server', `http://127.0.0.1:${port}`, '--admin-token', ADMIN, '--out', out, '--json']);
      expect(pulled.code).toBe(0);
      const checkpoints = (await readdir(state)).filter((f) => f.startsWith('round-')).sort();
      const last = await readFile(join(state, checkpoints[checkpoints.length - 1]));
      expect(Buffer.compare(await readFile(out), last)).toBe(0);
      expect(decodeAdapter(last).modules).toHaveLength(12);
    } finally {
      coordinator.kill();
      await coordinator.exited;
    }
  }, 240_000);

  it('SNELL-exact hands out factors whose sparse update is closer to the exact mean than factor averaging', async () => {
    expect(fedavgRound0Gaps).toBeDefined();
    const port = await freePort();
    const task = await writeTask('exact', {
      ...baseTask,
      taskId: 'e2e-exact',
      strategy: { name: 'snell-exact', refitSteps: 30, refitLr: 0.001 },
      rounds: { totalRounds: 1, minClients: 3, maxClients: 3, minReplies: 3, graceMs: 200, roundTimeoutMs: 60_000, waitForClientsMs: 60_000 },
    });
    const coordinator = startCoordinator(task, join(dir, 'state-exact'), port);
    try {
      await coordinator.waitFor('coordinator listening');
      const clients = [0, 1, 2].map((k) => startClient(port, join(dir, `client-${k}`), `node-${k}`, 1));
      expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);
      const [record] = await until(async () => {
        const r = await rounds(port);
        return r.length === 1 ? r : undefined;
      }, 'the SNELL-exact round');
      expect(record.status).toBe('aggregated');
      const exactGaps = Object.values(record.gaps ?? {});
      const averageGaps = Object.values(fedavgRound0Gaps ?? {});
      expect(exactGaps).toHaveLength(12);
      // the same round-0 updates (same seeds, data, global): the re-fit never does worse per module
      for (const [module, gap] of Object.entries(record.gaps ?? {})) expect(gap).toBeLessThanOrEqual((fedavgRound0Gaps ?? {})[module] + 1e-9);
      await mkdir(join(REPO, 'tmp'), { recursive: true });
      await writeFile(
        join(REPO, 'tmp/e2e-aggregation-gaps.json'),
        JSON.stringify({ factorAverage: { mean: mean(averageGaps), max: Math.max(...averageGaps) }, snellExact: { mean: mean(exactGaps), max: Math.max(...exactGaps) }, perModule: { factorAverage: fedavgRound0Gaps, snellExact: record.gaps } }, null, 1),
      );
    } finally {
      coordinator.kill();
      await coordinator.exited;
    }
  }, 240_000);

  it('closes a round with the clients that are left once a client killed mid-round is not back within its reconnect grace', async () => {
    const port = await freePort();
    const task = await writeTask('deadline', {
      ...baseTask,
      taskId: 'e2e-deadline',
      // grace longer than the deadline: only giving up on the killed client (3 s after it went) or the deadline can close the round
      rounds: { totalRounds: 1, minClients: 3, maxClients: 3, minReplies: 2, graceMs: 120_000, roundTimeoutMs: 60_000, waitForClientsMs: 60_000, reconnectGraceMs: 3000 },
    });
    const coordinator = startCoordinator(task, join(dir, 'state-deadline'), port);
    try {
      await coordinator.waitFor('coordinator listening');
      const fast = [0, 1].map((k) => startClient(port, join(dir, `client-${k}`), `fast-${k}`, 1));
      // 1500 images: this client is still training when it is killed
      const victim = startClient(port, join(dir, 'client-big'), 'victim', 1);
      await coordinator.waitFor('round started');
      await sleep(300);
      victim.kill('SIGKILL');
      expect(await Promise.all(fast.map((c) => c.exited))).toEqual([0, 0]);
      const [record] = await until(async () => {
        const r = await rounds(port);
        return r.length === 1 ? r : undefined;
      }, 'the round to close');
      expect(record.status).toBe('aggregated');
      expect(record.updates).toBe(2);
      expect(record.closedAt - record.startedAt).toBeGreaterThanOrEqual(3000);
      expect(record.closedAt - record.startedAt).toBeLessThan(60_000);
    } finally {
      coordinator.kill();
      await coordinator.exited;
    }
  }, 240_000);

  it('resumes after SIGKILL with earlier rounds byte-identical', async () => {
    const port = await freePort();
    const state = join(dir, 'state-resume');
    const task = await writeTask('resume', {
      ...baseTask,
      taskId: 'e2e-resume',
      rounds: { totalRounds: 4, minClients: 2, maxClients: 2, minReplies: 2, graceMs: 200, roundTimeoutMs: 60_000, waitForClientsMs: 60_000 },
    });
    let coordinator = startCoordinator(task, state, port);
    const clients = [0, 1].map((k) => startClient(port, join(dir, `client-${k}`), `resume-${k}`, 4));
    try {
      await until(async () => ((await rounds(port)).length >= 2 ? true : undefined), 'two closed rounds');
      coordinator.kill('SIGKILL');
      await coordinator.exited;
      const snapshot = new Map<string, Buffer>();
      for (const f of (await readdir(state)).filter((n) => n.startsWith('round-'))) snapshot.set(f, await readFile(join(state, f)));
      const historyBefore = JSON.parse(await readFile(join(state, 'rounds.json'), 'utf8')) as RoundRecord[] | { rounds: RoundRecord[] };
      const closedBefore = Array.isArray(historyBefore) ? historyBefore : historyBefore.rounds;
      expect(closedBefore.length).toBeGreaterThanOrEqual(2);

      coordinator = startCoordinator(task, state, port);
      expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
      const history = await until(async () => {
        const r = await rounds(port);
        return r.length === 4 ? r : undefined;
      }, 'all 4 rounds after the restart');
      expect(history.map((r) => r.round)).toEqual([0, 1, 2, 3]);
      // completed rounds are never lost or redone: the records and checkpoints written before the kill are unchanged
      expect(history.slice(0, closedBefore.length)).toEqual(closedBefore);
      for (const [f, bytes] of snapshot) expect(Buffer.compare(await readFile(join(state, f)), bytes)).toBe(0);
    } finally {
      for (const c of clients) c.kill();
      coordinator.kill();
      await coordinator.exited;
    }
  }, 300_000);
});
