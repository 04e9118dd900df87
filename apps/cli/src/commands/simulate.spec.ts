import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fateOf } from '../lib/simulation';

const ROOT = resolve(__dirname, '../../../..');
const FIXTURE_DIR = process.env['FEDSNELL_FIXTURE_DIR'] as string;

function fedsnell(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/fedsnell.cjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

interface JsonRound {
  round: number;
  status: string;
  selected: number;
  updates: number;
  accuracy: number | null;
  loss: number | null;
}

interface StateRound {
  round: number;
  selected: string[];
  updates: number;
}

describe('fedsnell simulate', () => {
  let work: string;
  // a small fleet: 6 virtual clients on the test backbone, 70 training digits, 3 clients a round
  const small = (out: string, ...extra: string[]) => [
    'simulate', '--backbone', FIXTURE_DIR, '--out', join(work, out), '--clients', '6', '--clients-per-round', '3', '--rounds', '2', '--per-class', '10', '--split', '0.3', ...extra,
  ];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'fedsnell-simulate-'));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('federates virtual clients: the table with the baseline first, then report, chart and adapter in --out', async () => {
    const r = await fedsnell(small('plain', '--workers', '1'));

    expect(r.stderr.split('\n').filter((l) => l.startsWith('fedsnell'))).toEqual([]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => /round\s+clients\s+accepted\s+accuracy\s+loss\s+down\s+up\s+gap\s+seconds/.test(l));
    expect(lines.slice(header + 2).filter((l) => /^\s+(base|\d+)\s/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([
      ['base', '-', '-'],
      ['1', '3', '3'],
      ['2', '3', '3'],
    ]);
    const report = JSON.parse(readFileSync(join(work, 'plain/report.json'), 'utf8'));
    expect(report.data.clients).toHaveLength(6);
    expect(report.data.clients.reduce((a: number, b: number) => a + b, 0)).toBe(70);
    expect(report.simulation.clientOutcomes).toEqual({ accepted: 6, refused: 0, skipped: 0, failed: 0 });
    expect(readFileSync(join(work, 'plain/accuracy.svg'), 'utf8').match(/<circle /g)).toHaveLength(3);
    expect(readFileSync(join(work, 'plain/report.md'), 'utf8')).toContain('![accuracy per round](accuracy.svg)');
    expect(existsSync(join(work, 'plain/adapter.safetensors'))).toBe(true);
  }, 90_000);

  it('repeats a run with stragglers and dropouts bit for bit, on this thread or two, and accepts exactly the clients drawn to reply', async () => {
    const args = (out: string, workers: string) =>
      small(out, '--rounds', '3', '--dropouts', '0.25', '--stragglers', '0.25', '--min-replies', '1', '--seed', '5', '--no-baseline', '--json', '--workers', workers);
    const [a, b] = await Promise.all([fedsnell(args('a', '1')), fedsnell(args('b', '2'))]);

    expect([a.code, b.code]).toEqual([0, 0]);
    const roundsA = (JSON.parse(a.stdout.trim().split('\n').pop() as string) as { rounds: JsonRound[] }).rounds;
    const roundsB = (JSON.parse(b.stdout.trim().split('\n').pop() as string) as { rounds: JsonRound[] }).rounds;
    expect(roundsB).toEqual(roundsA);
    // the coordinator's record of each round: who was selected and how many updates it aggregated
    const state = JSON.parse(readFileSync(join(work, 'a/state/rounds.json'), 'utf8')) as { rounds: StateRound[] } | StateRound[];
    const records = Array.isArray(state) ? state : state.rounds;
    const fates = records.map((r) => r.selected.map((id) => fateOf({ seed: 5, dropouts: 0.25, stragglers: 0.25 }, r.round, Number(id.replace('sim-', '')))));
    // the seed draws at least one straggler or dropout, so the test says something
    expect(fates.flat().filter((f) => f !== 'reply').length).toBeGreaterThan(0);
    expect(records.map((r) => r.updates)).toEqual(fates.map((f) => f.filter((x) => x === 'reply').length));
    for (const r of roundsA.filter((x) => x.status === 'aggregated')) expect(Number.isFinite(r.accuracy)).toBe(true);
  }, 120_000);

  it('refuses options that cannot run in one line naming the flag', async () => {
    const [perRound, draws, workers] = await Promise.all([
      fedsnell(['simulate', '--clients', '5', '--clients-per-round', '6']),
      fedsnell(['simulate', '--stragglers', '0.7', '--dropouts', '0.6']),
      fedsnell(['simulate', '--workers', 'many']),
    ]);

    expect([perRound.code, draws.code, workers.code]).toEqual([1, 1, 1]);
    expect(workers.stderr.trim()).toBe("fedsnell simulate: --workers must be auto or an integer in [1, 64] but got 'many'");
    expect(perRound.stderr.trim()).toBe('fedsnell simulate: --clients-per-round must be at most --clients (5) but got 6');
    expect(draws.stderr.trim()).toBe('fedsnell simulate: --stragglers and --dropouts are probabilities of one draw and must add up to at most 1 but got 0.7 + 0.6');
  }, 60_000);
});
