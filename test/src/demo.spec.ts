import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdapter } from '@fedsnell/snell';
import { runCli } from './testing/run-cli';

describe('fedsnell demo', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fedsnell-demo-'));
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('federates two clients for two rounds and writes the aggregated adapter', async () => {
    const r = await runCli(['demo', '--out', out, '--clients', '2', '--rounds', '2', '--per-class', '6', '--json'], { timeoutMs: 180_000 });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.clients.reduce((a: number, b: number) => a + b, 0)).toBe(60);
    expect(summary.rounds.map((x: { status: string; updates: number }) => [x.status, x.updates])).toEqual([
      ['aggregated', 2],
      ['aggregated', 2],
    ]);
    for (const x of summary.rounds) expect(x.accuracy).toBeGreaterThanOrEqual(0);
    expect(decodeAdapter(await readFile(summary.adapter)).modules).toHaveLength(12);
  }, 240_000);

  it('says which backbone is missing', async () => {
    const r = await runCli(['demo', '--out', out, '--backbone', join(out, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fedsnell demo: no backbone at');
  }, 60_000);
});
