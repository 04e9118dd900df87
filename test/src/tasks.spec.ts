import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runCli } from './testing/run-cli';

const TASKS = join(REPO, 'deploy/tasks');
const files = readdirSync(TASKS).filter((f) => f.endsWith('.json')).sort();

interface DemoSummary {
  backbone: string;
  rounds: { round: number; status: string; updates: number; accuracy: number }[];
}

/**
 * Every sample task learns: two rounds of it, as the demo runs it (the shipped backbone, two Node
 * clients with Dirichlet(0.5) shards of a small MNIST split, the coordinator scoring a held-out part),
 * end clearly above chance (10 classes).
 */
describe('sample tasks in deploy/tasks', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-tasks-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are there', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s learns in two rounds on the shipped backbone', async (file) => {
    const r = await runCli(
      ['demo', '--task', join(TASKS, file), '--out', join(dir, file), '--rounds', '2', '--clients', '2', '--per-class', '40', '--split', '0.25', '--no-baseline', '--json'],
      { timeoutMs: 150_000 },
    );
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fedsnell'))).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as DemoSummary;
    expect(summary.backbone).toBe(join(REPO, 'models/fmnist-vit'));
    expect(summary.rounds.map((x) => x.status)).toEqual(['aggregated', 'aggregated']);
    // 10 classes: chance is 0.1; 100 held-out digits put one standard error near 0.03
    expect(summary.rounds[1].accuracy).toBeGreaterThan(0.3);
  }, 180_000);
});
