import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdapter } from '@fedsnell/snell';
import { FIXTURE, runCli } from './testing/run-cli';

describe('fedsnell demo', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fedsnell-demo-'));
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('federates two clients for two rounds: a table with the baseline first, then adapter, merged backbone and report in --out', async () => {
    const r = await runCli(
      ['demo', '--backbone', FIXTURE, '--out', out, '--clients', '2', '--rounds', '2', '--per-class', '10', '--split', '0.3'],
      { timeoutMs: 240_000 },
    );
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fedsnell'))).toEqual([]);
    expect(r.code).toBe(0);
    // the live table: header, the head-only baseline, then one row per round
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => /round\s+clients\s+accepted\s+accuracy\s+loss\s+down\s+up\s+gap\s+seconds/.test(l));
    expect(header).toBeGreaterThanOrEqual(0);
    const rows = lines.slice(header + 2).filter((l) => /^\s+(base|\d+)\s/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(['base', '1', '2']);

    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.data).toMatchObject({ train: 70, test: 30 });
    expect(report.data.clients.reduce((a: number, b: number) => a + b, 0)).toBe(70);
    expect(report.rounds.map((x: { kind: string; accepted: number | null }) => [x.kind, x.accepted])).toEqual([
      ['baseline', null],
      ['aggregated', 2],
      ['aggregated', 2],
    ]);
    for (const x of report.rounds) {
      expect(x.accuracy).toBeGreaterThanOrEqual(0);
      expect(x.accuracy).toBeLessThanOrEqual(1);
    }
    // the first round carries the backbone downloads; every round carries the clients' updates
    expect(report.rounds[1].bytesDown).toBeGreaterThan(100_000);
    expect(report.rounds[2].bytesUp).toBeGreaterThan(0);
    // the evaluation split stays with the coordinator: no client holds a file of it
    const test = new Set((await readdir(join(out, 'data/test'), { recursive: true })).filter((f) => f.endsWith('.png')).map((f) => f.split('/').pop()));
    const clientFiles = (await readdir(join(out, 'clients'), { recursive: true })).filter((f) => f.endsWith('.png'));
    expect(clientFiles).toHaveLength(70);
    for (const f of clientFiles) expect(test.has(f.split('/').pop()?.replace(/^\d+-/, ''))).toBe(false);

    expect(decodeAdapter(await readFile(join(out, 'adapter.safetensors'))).modules).toHaveLength(12);
    expect(existsSync(join(out, 'merged-backbone/config.json'))).toBe(true);
    // the merged backbone on its own scores what the federated model scored in the last round
    expect(Math.abs(report.final.mergedBackboneAccuracy - report.rounds[2].accuracy)).toBeLessThanOrEqual(1 / 30 + 1e-9);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('![accuracy per round](accuracy.svg)');
    // header, alignment row, the baseline and two rounds
    expect(markdown.split('\n').filter((l) => l.startsWith('| ')).length).toBe(5);
    const svg = await readFile(join(out, 'accuracy.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(3);
  }, 300_000);

  it('says which backbone is missing', async () => {
    const r = await runCli(['demo', '--out', out, '--backbone', join(out, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fedsnell demo: no backbone at');
  }, 60_000);

  it('says which task file is broken', async () => {
    const r = await runCli(['demo', '--out', out, '--backbone', FIXTURE, '--task', join(out, 'no-task.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("fedsnell demo: cannot read task file");
  }, 60_000);
});
