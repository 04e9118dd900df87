// The coordinator of test/bench/load/load.bench.ts, in its own process so that its RSS and event loop
// are its own. argv[2]: {"shape": "test"|"vit-b", "clients": N, "rounds": R, "strategy": "fedavg"|"snell-exact"}.
// N per-device tokens (tok-k → c-k), every joined client sampled each round, no evaluation cost (the
// load is the transport, the checks, the journal and the aggregation). Prints {"url", "taskId",
// "backbone"} once listening; `stats` on stdin prints {"stats"}; end of stdin closes it.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createCoordinator, silentLogger } from '@fedsnell/coordinator';
import { fedAvg, snellExact } from '@fedsnell/federation';
import { workerSparseDeltas } from '@fedsnell/federation/node';
import { createRng } from '@fedsnell/snell';
import { TEST_BACKBONE_SHAPE, VIT_B_SHAPE, VIT_B_SNELL, vitBState } from '../lib/vit-b-update';

interface ChildOptions {
  shape: 'test' | 'vit-b';
  clients: number;
  rounds: number;
  strategy?: 'fedavg' | 'snell-exact';
}

// a stand-in file for the backbone weights: load clients never download them
const WEIGHTS = new Uint8Array(64).map((_, i) => i);

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const dir = await mkdtemp(join(tmpdir(), 'fedsnell-load-'));
  const weightsPath = join(dir, 'model.safetensors');
  await writeFile(weightsPath, WEIGHTS);
  const sha = createHash('sha256').update(WEIGHTS).digest('hex');
  const shape = o.shape === 'vit-b' ? VIT_B_SHAPE : TEST_BACKBONE_SHAPE;
  const sparseDeltas = o.strategy === 'snell-exact' ? await workerSparseDeltas(VIT_B_SNELL) : undefined;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let peakRss = 0;
  const coordinator = await createCoordinator({
    port: 0,
    host: '127.0.0.1',
    tokens: { client: [], admin: 'admin-token' },
    clientTokens: new Map(Array.from({ length: o.clients }, (_, k) => [`tok-${k}`, `c-${k}`])),
    backbone: { sha256: sha, configJson: '{"architecture":"vit_base_patch16_224"}', weightsPath },
    task: {
      taskId: 'load-task',
      snell: { ...VIT_B_SNELL, targets: ['q', 'k', 'v', 'proj', 'fc1', 'fc2'] },
      trainer: { epochs: 1, batchSize: 8, lr: 0.01, weightDecay: 0, schedule: 'constant', seed: 1 },
      data: { classes: Array.from({ length: 10 }, (_, k) => `class-${k}`) },
      updateDtype: 'f32',
    },
    initialState: vitBState(0, shape),
    strategy: o.strategy === 'snell-exact' ? snellExact({ snell: VIT_B_SNELL, refitSteps: 0, sparseDeltas }) : fedAvg(),
    evaluate: async () => ({ accuracy: 0 }),
    stateDir: join(dir, 'state'),
    rounds: { fraction: 1, minClients: o.clients, maxClients: o.clients, minReplies: o.clients, graceMs: 0, roundTimeoutMs: 600_000, waitForClientsMs: 500, totalRounds: o.rounds },
    rng: createRng(1),
    logger: silentLogger,
    autoStart: true,
  });
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  print({ url: coordinator.url, taskId: 'load-task', backbone: sha });
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    if (line !== 'stats') return;
    const res = await fetch(`${coordinator.url}/api/rounds`, { headers: { Authorization: 'Bearer admin-token' } });
    const rounds = ((await res.json()) as { rounds: { round: number; status: string; updates: number; startedAt: number; closedAt: number }[] }).rounds;
    print({
      stats: {
        peakRssMb: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1e6),
        eventLoopLagMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
        rounds: rounds.map((r) => ({ round: r.round, status: r.status, updates: r.updates, openMs: r.closedAt - r.startedAt })),
      },
    });
  });
  lines.on('close', async () => {
    clearInterval(timer);
    await coordinator.close();
    await sparseDeltas?.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

main().catch((error: Error) => {
  process.stderr.write(`load coordinator failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
