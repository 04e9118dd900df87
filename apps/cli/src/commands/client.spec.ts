import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseTaskFile, silentLogger, startCoordinatorService, type Service } from '@fedsnell/coordinator';
import { writeImageFolder } from '@fedsnell/data/node';
import { decodeAdapter } from '@fedsnell/snell';
import { useBackend } from '@fedsnell/train';
import { summaryLine } from './client';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'bin/fedsnell.cjs');
const FIXTURE_DIR = process.env['FEDSNELL_FIXTURE_DIR'] as string;
const CLASSES = ['a', 'b', 'c', 'd', 'e'];

async function fedsnell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function writeFolder(dir: string, seed0: number): Promise<void> {
  let seed = seed0;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  const examples = CLASSES.flatMap((c, label) =>
    Array.from({ length: 2 }, () => ({ label, image: { width: 16, height: 16, channels: 3 as const, data: Uint8Array.from({ length: 768 }, next) } })),
  );
  await writeImageFolder(dir, CLASSES, examples);
}

describe('fedsnell client', () => {
  let work: string;
  let service: Service;

  beforeAll(async () => {
    await useBackend('wasm');
    work = mkdtempSync(join(tmpdir(), 'fedsnell-client-cli-'));
    await writeFolder(join(work, 'data'), 1);
    await writeFolder(join(work, 'eval'), 2);
    service = await startCoordinatorService({
      backboneDir: FIXTURE_DIR,
      evalDataDir: join(work, 'eval'),
      task: parseTaskFile({
        taskId: 'cli-test',
        snell: { rank: 4, heads: 2, sparsity: 0.5, targets: ['attn.q'] },
        trainer: { epochs: 1, batchSize: 8 },
        rounds: { totalRounds: 100, minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 60_000, waitForClientsMs: 200 },
      }),
      stateDir: join(work, 'state'),
      port: 0,
      tokens: { client: ['ct'], admin: 'at' },
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await service?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const base = () => ['client', '--server', service.coordinator.url, '--data', join(work, 'data'), '--backend', 'wasm', '--cache', join(work, 'cache')];

  it('trains the asked number of rounds and prints one JSON object', async () => {
    const { code, stdout } = await fedsnell(...base(), '--token', 'ct', '--rounds', '1', '--json');
    const result = JSON.parse(stdout) as { clientId: string; taskId: string; rounds: { outcome: string; numExamples: number }[] };
    expect([code, result.taskId, result.rounds.map((r) => [r.outcome, r.numExamples])]).toEqual([0, 'cli-test', [['accepted', 10]]]);
  });

  it('numbers rounds as /api/rounds does in pull and in the adapter metadata', async () => {
    const rounds = async () => {
      const res = await fetch(`${service.coordinator.url}/api/rounds`, { headers: { Authorization: 'Bearer at' } });
      return ((await res.json()) as { rounds: { round: number; status: string }[] }).rounds.filter((r) => r.status !== 'open').map((r) => r.round);
    };
    // the round the previous test answered closes once its update is aggregated and checkpointed
    for (let i = 0; i < 100 && (await rounds()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const closed = await rounds();
    const out = join(work, 'pulled.safetensors');
    const first = await fedsnell('pull', '--server', service.coordinator.url, '--admin-token', 'at', '--out', out, '--round', '0', '--json');
    expect([first.code, (JSON.parse(first.stdout) as { round: number }).round, decodeAdapter(readFileSync(out)).extra['round']]).toEqual([0, 0, 0]);
    const latest = await fedsnell('pull', '--server', service.coordinator.url, '--admin-token', 'at', '--out', out);
    expect([closed[0], latest.stdout]).toEqual([0, expect.stringContaining(`round ${closed[closed.length - 1]},`)]);
  });

  it('gives up on a server that does not answer, in one JSON error with --json', async () => {
    const { code, stdout } = await fedsnell('client', '--server', 'http://127.0.0.1:1', '--token', 'ct', '--data', join(work, 'data'), '--backend', 'cpu', '--server-timeout', '1', '--json');
    expect([code, JSON.parse(stdout)]).toEqual([1, { error: { code: 'UNREACHABLE', message: expect.stringMatching(/^no coordinator answered at http:\/\/127\.0\.0\.1:1 within 1 s \(.*\); check --server, or pass --wait-for-server to keep trying$/) } }]);
  });

  it('exits with one line on a refused token', async () => {
    const { code, stderr } = await fedsnell(...base(), '--token', 'wrong', '--rounds', '1');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toMatch(/^fedsnell client: server http:\/\/127\.0\.0\.1:\d+ refused the connection \(UNAUTHORIZED\): /);
  });

  it('rejects an unknown backend before connecting', async () => {
    const { code, stderr } = await fedsnell(...base(), '--token', 'ct', '--backend', 'tpu');
    expect([code, stderr]).toEqual([1, "fedsnell client: --backend must be auto, webgpu, wasm or cpu but got 'tpu'\n"]);
  });

  it('stops gracefully on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, ...base(), '--token', 'ct'], { cwd: ROOT });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const joined = new Promise<void>((r) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('joined as')) r();
      }),
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await joined;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopped by SIGTERM');
  });
});

describe('summaryLine', () => {
  const base = { clientId: 'c1', taskId: 't', backend: 'wasm', reason: 'task t finished after 3 round(s)' };

  it('names the finished task and its final accuracy', () => {
    const finished = { taskId: 't', roundsCompleted: 3, lastRound: 2, metrics: { accuracy: 0.915 } };
    const rounds = [{ round: 0, outcome: 'accepted' as const }, { round: 1, outcome: 'failed' as const }, { round: 2, outcome: 'accepted' as const }];
    expect(summaryLine({ ...base, rounds, finished })).toBe('client c1: 2 update(s) accepted in 3 round(s); task t finished after 3 round(s), final eval accuracy 91.5%');
  });

  it('gives the reason when the client stopped for another one', () => {
    expect(summaryLine({ ...base, rounds: [], reason: 'stopped by SIGTERM' })).toBe('client c1: 0 update(s) accepted in 0 round(s); stopped by SIGTERM');
  });
});
