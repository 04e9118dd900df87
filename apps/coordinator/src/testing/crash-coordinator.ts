// A coordinator child for crash tests: tiny state, FedAvg, fast rounds, the real state folder, journal
// and socket server. Run with tsx: `crash-coordinator.ts <stateDir> <port> <weightsFile> <totalRounds>
// <clients>`. It prints `listening <port>` once it serves, exits cleanly on SIGTERM, and dies where
// FEDSNELL_FAULT says (see src/lib/fault.ts).
import { fedAvg } from '@fedsnell/federation';
import { sha256File } from '@fedsnell/tensor-io/node';
import { createCoordinator } from '../lib/coordinator';
import { initialState, seeded } from '../lib/coordinator.testing';
import { streamLogger } from '../lib/logger';

async function main(): Promise<void> {
  const [stateDir, port, weightsPath, totalRounds, clients] = process.argv.slice(2);
  const n = Number(clients);
  const coordinator = await createCoordinator({
    port: Number(port),
    tokens: { client: ['crash-client'], admin: 'crash-admin' },
    backbone: { sha256: await sha256File(weightsPath), configJson: '{"architecture":"vit_tiny_patch16_224"}', weightsPath },
    task: {
      taskId: 'crash-task',
      snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 1, rank: 2, sparsity: 0.5, targets: ['q'] },
      trainer: { epochs: 1, batchSize: 2, lr: 0.01, weightDecay: 0, schedule: 'constant', seed: 1 },
      data: { classes: ['a', 'b'] },
      updateDtype: 'f32',
    },
    initialState: initialState(),
    strategy: fedAvg(),
    evaluate: async (state) => ({ loss: state.get('head.bias')?.data[0] ?? 0 }),
    stateDir,
    rounds: { minClients: n, maxClients: n, minReplies: n, graceMs: 0, roundTimeoutMs: 60_000, waitForClientsMs: 100, totalRounds: Number(totalRounds) },
    rng: seeded(7),
    roundRng: (round) => seeded(1000 + round),
    logger: streamLogger(),
    autoStart: true,
  });
  process.stdout.write(`listening ${coordinator.port}\n`);
  process.once('SIGTERM', () => void coordinator.close().then(() => process.exit(0)));
}

main().catch((error: Error) => {
  process.stderr.write(`crash-coordinator: ${error.message}\n`);
  process.exit(1);
});
