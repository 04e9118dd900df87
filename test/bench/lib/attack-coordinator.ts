// A coordinator on loopback for test/bench/coordinator-attacks.bench.ts, in its own process so that its
// RSS is its own: argv[2] is a JSON object of createCoordinator option overrides (limits, rounds,
// tokens, maxConnectionsPerToken). Prints {"url"} once listening, then {"rss", "heap", "buffers"} every 100 ms;
// `gc` on stdin runs a full collection, `records` prints {"records"}, `rounds` prints {"rounds"}, and
// end of stdin closes it.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createCoordinator, type CoordinatorOptions } from '@fedsnell/coordinator';
import { fedAvg } from '@fedsnell/federation';

const WEIGHTS = new Uint8Array(64).map((_, i) => i);

async function main(): Promise<void> {
  const over = JSON.parse(process.argv[2] ?? '{}') as Partial<CoordinatorOptions>;
  const dir = await mkdtemp(join(tmpdir(), 'fedsnell-attack-'));
  const weightsPath = join(dir, 'model.safetensors');
  await writeFile(weightsPath, WEIGHTS);
  let seed = 7;
  const coordinator = await createCoordinator({
    port: 0,
    host: '127.0.0.1',
    tokens: { client: ['legit-token', 'attacker-token'], admin: 'admin-token' },
    backbone: { sha256: createHash('sha256').update(WEIGHTS).digest('hex'), configJson: '{"architecture":"vit_tiny_patch16_224"}', weightsPath },
    task: {
      taskId: 'attack-task',
      snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 1, rank: 2, sparsity: 0.5, targets: ['q'] },
      trainer: { epochs: 1, batchSize: 2, lr: 0.01, weightDecay: 0, schedule: 'constant', seed: 1 },
      data: { classes: ['a', 'b'] },
      updateDtype: 'f32',
    },
    initialState: new Map([['head.bias', { shape: [2], data: new Float32Array([0.5, -0.5]) }]]),
    strategy: fedAvg(),
    evaluate: async () => ({ accuracy: 0.5 }),
    stateDir: join(dir, 'state'),
    rng: () => ((seed = (seed * 16807) % 2147483647) / 2147483647),
    ...over,
  });
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  print({ url: coordinator.url });
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    print({ rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers });
  }, 100);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    if (line === 'gc') (globalThis as { gc?: () => void }).gc?.();
    if (line === 'records') {
      const res = await fetch(`${coordinator.url}/api/clients`, { headers: { Authorization: 'Bearer admin-token' } });
      print({ records: ((await res.json()) as { clients: unknown[] }).clients.length });
    }
    if (line === 'rounds') {
      const res = await fetch(`${coordinator.url}/api/rounds`, { headers: { Authorization: 'Bearer admin-token' } });
      print({ rounds: ((await res.json()) as { rounds: { status: string }[] }).rounds.map((r) => r.status) });
    }
  });
  lines.on('close', async () => {
    clearInterval(timer);
    await coordinator.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

main().catch((error: Error) => {
  process.stderr.write(`attack coordinator failed: ${error.message}\n`);
  process.exit(1);
});
