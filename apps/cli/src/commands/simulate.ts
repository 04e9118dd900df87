import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ROUNDS, parseTaskFile, startCoordinatorService, streamLogger, type RoundRecord, type TaskFile } from '@fedsnell/coordinator';
import { openImageFolder, decodeImage, exportImageFolder } from '@fedsnell/data/node';
import type { RawImage } from '@fedsnell/data';
import { errorMessage } from '@fedsnell/util';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { loadBackbone, selectBackend } from '../lib/load';
import { tableHeader, tableRow, writeRunReport, type RoundRow } from '../lib/report';
import { SimClock } from '../lib/sim-clock';
import { simulationShards } from '../lib/sim-shards';
import { VirtualFleet, type SimulationData } from '../lib/simulation';
import { SimWorkers } from '../lib/sim-workers';
import { readTask } from './coordinator';
import { backboneName, baselineRow, DEFAULT_BACKBONE, DEFAULT_TASK, displayPath, roundRow, roundTraffic } from './demo';

export interface SimulateOpts {
  backbone: string;
  task: string;
  out: string;
  clients: number;
  clientsPerRound?: number;
  minReplies?: number;
  rounds?: number;
  localEpochs?: number;
  perClass: number;
  split: number;
  alpha: number;
  iid?: boolean;
  sizeSkew: number;
  stragglers: number;
  dropouts: number;
  seed: number;
  workers: string;
  strategy?: string;
  baseline: boolean;
  verbose?: boolean;
  json?: boolean;
}

/** What a simulation gives back besides its report files. */
export interface SimulationResult {
  out: string;
  rows: RoundRow[];
  shards: number[];
  wallSeconds: number;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'N virtual clients in this process (one shared backbone, a shard of MNIST digits each) federate through the real coordinator ' +
        'and the real client core on loopback; seeded stragglers and dropouts; the same table, report and chart as `demo`',
    )
    .option('--backbone <dir>', 'timm-layout backbone (default: the shipped fashion-mnist ViT, models/fmnist-vit)', DEFAULT_BACKBONE)
    .option('--task <file>', 'task file (default: deploy/tasks/mnist-snell.json, the demo task)', DEFAULT_TASK)
    .option('--out <dir>', 'output folder: data, state, adapter, report', 'out/simulate')
    .option('--clients <n>', 'virtual clients', numberOption('--clients', 1, 10_000, true), 100)
    .option('--clients-per-round <k>', 'clients sampled each round (default: 10, at most --clients)', numberOption('--clients-per-round', 1, 10_000, true))
    .option('--min-replies <n>', "replies a round needs to aggregate (default: the task file's minReplies, at most --clients-per-round)", numberOption('--min-replies', 1, 10_000, true))
    .option('--rounds <n>', "federated rounds (default: the task file's totalRounds)", numberOption('--rounds', 1, 10_000, true))
    .option('--local-epochs <e>', "local epochs per round (default: the task file's trainer.epochs)", numberOption('--local-epochs', 1, 1000, true))
    .option('--per-class <n>', 'MNIST digits per class (training pool + held-out test split)', numberOption('--per-class', 2, 6000, true), 250)
    .option('--split <fraction>', 'fraction of each class held out for evaluation by the coordinator', numberOption('--split', 0.01, 0.99), 0.2)
    .option('--alpha <a>', 'Dirichlet(alpha) label skew of the shards', numberOption('--alpha', 1e-3, 1e6), 0.5)
    .option('--iid', 'IID shards instead of Dirichlet label skew')
    .option('--size-skew <sigma>', 'log-normal spread of shard sizes: size ∝ exp(sigma·z), z ~ N(0,1); 0: no extra spread', numberOption('--size-skew', 0, 5), 0)
    .option('--stragglers <p>', 'probability that a selected client replies only after its round has closed', numberOption('--stragglers', 0, 1), 0)
    .option('--dropouts <p>', 'probability that a selected client never replies in a round', numberOption('--dropouts', 0, 1), 0)
    .option('--seed <n>', "seed of the task (sampling, initialisation, training), the shards and the stragglers/dropouts", numberOption('--seed', 0, 2 ** 31 - 1, true), 0)
    .option('--workers <n>', 'training threads (each with its own copy of the backbone); 1: train on this thread; auto: one per core, at most 4', 'auto')
    .option('--strategy <name>', "aggregation strategy instead of the task file's (fedavg, fedprox, fedadam, median, snell-exact, …)")
    .option('--no-baseline', 'skip the head-only baseline (first row)')
    .option('--verbose', "log the coordinator's events on stderr")
    .option('--json', 'print one JSON object at the end instead of the table')
    .action(action('simulate', async (opts: SimulateOpts) => void (await simulate(opts))));
}

/** Runs a simulation as `fedsnell simulate` does: table on stdout (unless --json), report in --out. */
export async function simulate(opts: SimulateOpts): Promise<SimulationResult> {
  const started = performance.now();
  const perRound = opts.clientsPerRound ?? Math.min(10, opts.clients);
  checkOptions(opts, perRound);
  const threads = workerCount(opts.workers);
  const backboneDir = resolve(opts.backbone);
  if (!existsSync(join(backboneDir, 'config.json')) || !existsSync(join(backboneDir, 'model.safetensors'))) {
    throw new CliError(`no backbone at ${opts.backbone} (config.json + model.safetensors); pass --backbone DIR`);
  }
  const task = simulationTask(await readTask(opts.task), opts, perRound);
  const totalRounds = task.rounds.totalRounds ?? DEFAULT_ROUNDS.totalRounds;
  const say = (line: string) => (opts.json ? undefined : process.stdout.write(`${line}\n`));
  const out = resolve(opts.out);
  for (const part of ['state', 'data']) await rm(join(out, part), { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  // the demo's data: MNIST digits, a held-out test split for the coordinator, the rest for the clients
  const exported = await exportImageFolder('mnist', join(out, 'data'), { perClass: opts.perClass, split: opts.split });
  const testDir = join(out, 'data/test');
  const pool = await decodePool(join(out, 'data/train'));
  let shards: number[][];
  try {
    shards = simulationShards(pool.labels, { clients: opts.clients, alpha: opts.iid ? undefined : opts.alpha, sizeSkew: opts.sizeSkew, seed: opts.seed });
  } catch (error) {
    throw new CliError(`cannot split ${pool.labels.length} digits over --clients ${opts.clients}: ${errorMessage(error)}; raise --per-class or lower --clients`);
  }
  const data: SimulationData = { ...pool, shards };
  const count = (part: string) => (exported.counts[part] ?? []).reduce((a, b) => a + b, 0);
  const sizes = shards.map((s) => s.length);
  const split = opts.iid ? 'IID' : `Dirichlet α = ${opts.alpha}`;
  say(
    `simulate: ${count('train')} MNIST digits over ${opts.clients} virtual clients (${split}${opts.sizeSkew > 0 ? `, size skew ${opts.sizeSkew}` : ''}; ` +
      `shard sizes ${Math.min(...sizes)}–${Math.max(...sizes)}), ${count('test')} held out; ${perRound} clients per round, ` +
      `stragglers ${opts.stragglers}, dropouts ${opts.dropouts}, seed ${opts.seed}`,
  );
  const backend = await selectBackend('wasm');
  say(`simulate: backbone ${displayPath(backboneDir)}, task ${displayPath(resolve(opts.task))} (${totalRounds} rounds, strategy ${task.strategy.name}), backend ${backend}, ${threads > 1 ? `${threads} training threads` : 'training on this thread'}`);

  const rows: RoundRow[] = [];
  const printRow = (row: RoundRow) => {
    rows.push(row);
    say(tableRow(row));
  };
  say('');
  say(tableHeader());
  if (opts.baseline) printRow(await baselineRow(backboneDir, join(out, 'data/train'), testDir));

  // one frozen backbone for every virtual client: the bytes read once, the model built once
  const { folder, model } = await loadBackbone(backboneDir);
  const clock = new SimClock();
  const backboneBytes = new Uint8Array(await readFile(join(backboneDir, 'model.safetensors')));
  let workers: SimWorkers | undefined;
  try {
    workers = threads > 1 ? await SimWorkers.start(threads, { backend, backboneBytes, configJson: folder.configJson, ...pool }) : undefined;
  } catch (error) {
    model.dispose();
    throw new CliError(`could not start ${threads} training threads (${errorMessage(error)}); pass --workers 1 to train on this thread`);
  }
  const clientToken = randomBytes(12).toString('base64url');
  const adminToken = randomBytes(12).toString('base64url');
  let service;
  try {
    service = await startCoordinatorService({
      backboneDir,
      evalDataDir: testDir,
      task,
      stateDir: join(out, 'state'),
      port: 0,
      host: '127.0.0.1',
      tokens: { client: [clientToken], admin: adminToken },
      logger: opts.verbose ? streamLogger() : streamLogger({ write: () => undefined }),
      autoStart: false,
      maxConnectionsPerToken: opts.clients,
      clock,
    });
  } catch (error) {
    model.dispose();
    await workers?.close();
    throw error;
  }
  const url = service.coordinator.url;
  const traffic = roundTraffic(service);
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  const fleet = new VirtualFleet({
    server: url,
    token: clientToken,
    data,
    shared: { model, tensors: folder.tensors },
    backbone: { bytes: backboneBytes, sha256: folder.sha256 },
    backend,
    fates: { seed: opts.seed, dropouts: opts.dropouts, stragglers: opts.stragglers },
    clock,
    workers,
    coordinator: {
      rounds: async () => (await api<{ rounds: RoundRecord[] }>('/api/rounds')).rounds,
      readyClients: async () => (await api<{ clients: { ready?: boolean; connected?: boolean }[] }>('/api/clients')).clients.filter((c) => c.ready && c.connected).length,
    },
  });
  const finished = fleet.start();
  finished.catch(() => undefined);
  try {
    await fleet.whenAllReady();
    service.coordinator.start();
    await fleet.playRounds(totalRounds, (record) => printRow(roundRow(record, traffic)));
    await service.coordinator.finished;
    const results = await finished;
    const res = await fetch(`${url}/api/adapter`, { headers: { Authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new CliError(`could not pull the adapter: HTTP ${res.status}`);
    const adapterPath = join(out, 'adapter.safetensors');
    await writeFile(adapterPath, new Uint8Array(await res.arrayBuffer()));

    const federated = rows.filter((r) => r.kind !== 'baseline');
    const last = federated[federated.length - 1];
    const baseline = rows.find((r) => r.kind === 'baseline');
    const outcomes = { accepted: 0, refused: 0, skipped: 0, failed: 0 };
    for (const r of results) for (const round of r.rounds) outcomes[round.outcome]++;
    const wallSeconds = (performance.now() - started) / 1000;
    const details = {
      backbone: displayPath(backboneDir),
      task: { file: displayPath(resolve(opts.task)), ...task },
      simulation: {
        clients: opts.clients,
        clientsPerRound: perRound,
        stragglers: opts.stragglers,
        dropouts: opts.dropouts,
        seed: opts.seed,
        trainingThreads: threads,
        clock: 'simulated: a round missing a reply waits until its deadline, and the clock jumps there at once (seconds column)',
        clientOutcomes: outcomes,
      },
      data: { set: 'mnist', train: count('train'), test: count('test'), split: opts.iid ? 'iid' : `dirichlet(${opts.alpha})`, sizeSkew: opts.sizeSkew, clients: sizes },
      baseline: baseline ? { kind: 'head only: softmax classifier on the frozen backbone features, fitted on the pooled client data', accuracy: baseline.accuracy } : null,
      final: { round: last?.round ?? 0, accuracy: last?.accuracy ?? NaN },
      files: { adapter: displayPath(adapterPath) },
      machine: { backend, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      wallSeconds,
    };
    const report = await writeRunReport(out, {
      title: 'Simulated federated SNELL on MNIST digits',
      subtitle: `${opts.clients} virtual clients, ${perRound} per round, ${split}, ${count('train')} training / ${count('test')} held-out digits, backbone ${backboneName(backboneDir)}, ${task.strategy.name}`,
      baselineLabel: 'head only',
      rows,
      details,
    });
    if (opts.json) {
      printJson({
        out,
        backbone: backboneDir,
        clients: sizes,
        baseline: baseline?.accuracy ?? null,
        rounds: federated.map((r) => ({ round: r.round, status: r.kind, selected: r.clients, updates: r.accepted, accuracy: r.accuracy, loss: r.loss })),
        clientOutcomes: outcomes,
        adapter: adapterPath,
        report: report.json,
        wallSeconds,
      });
    } else {
      say('');
      say(`simulate: held-out accuracy ${pct(last?.accuracy)} after ${federated.length} rounds${baseline ? ` (head only: ${pct(baseline.accuracy)})` : ''}`);
      say(`simulate: client rounds ${outcomes.accepted} accepted, ${outcomes.refused} refused, ${outcomes.skipped} skipped, ${outcomes.failed} failed`);
      say(`simulate: adapter ${displayPath(adapterPath)}, report ${displayPath(report.markdown)} (+ report.json, accuracy.svg); ${wallSeconds.toFixed(0)} s in all`);
    }
    return { out, rows, shards: sizes, wallSeconds };
  } finally {
    await fleet.stop('simulation over');
    await service.close();
    await workers?.close();
    model.dispose();
  }
}

/** `--workers`: a count, or auto (one per core, at most 4). */
function workerCount(flag: string): number {
  if (flag === 'auto') return Math.max(1, Math.min(4, cpus().length));
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CliError(`--workers must be auto or an integer in [1, 64] but got '${flag}'`, { code: 'USAGE' });
  return n;
}

function checkOptions(opts: SimulateOpts, perRound: number): void {
  if (perRound > opts.clients) throw new CliError(`--clients-per-round must be at most --clients (${opts.clients}) but got ${perRound}`, { code: 'USAGE' });
  if (opts.minReplies !== undefined && opts.minReplies > perRound) {
    throw new CliError(`--min-replies must be at most --clients-per-round (${perRound}) but got ${opts.minReplies}`, { code: 'USAGE' });
  }
  if (opts.stragglers + opts.dropouts > 1) {
    throw new CliError(`--stragglers and --dropouts are probabilities of one draw and must add up to at most 1 but got ${opts.stragglers} + ${opts.dropouts}`, { code: 'USAGE' });
  }
}

/** The task file with the simulation's settings: rounds, clients per round, local epochs, seed, strategy. */
function simulationTask(task: TaskFile, opts: SimulateOpts, perRound: number): TaskFile {
  const rounds = { ...task.rounds };
  if (opts.rounds !== undefined) rounds.totalRounds = opts.rounds;
  // every virtual client is ready before the first round: exactly perRound of them are sampled
  rounds.fraction = perRound / opts.clients;
  rounds.minClients = perRound;
  rounds.maxClients = perRound;
  rounds.minReplies = Math.min(opts.minReplies ?? rounds.minReplies ?? 1, perRound);
  const trainer = opts.localEpochs === undefined ? task.trainer : { ...task.trainer, epochs: opts.localEpochs };
  const strategy = opts.strategy === undefined || opts.strategy === task.strategy.name ? task.strategy : { name: opts.strategy };
  try {
    return parseTaskFile({ ...task, seed: opts.seed, rounds, trainer, strategy }, 'simulation task');
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
}

/** The training pool decoded once into memory; the shards index into it. */
async function decodePool(dir: string): Promise<{ classes: string[]; images: RawImage[]; labels: Int32Array }> {
  // the file list is all that is needed here: preprocessing happens per batch, with the task's settings
  const folder = await openImageFolder(dir, { inputSize: [3, 1, 1], mean: [0, 0, 0], std: [1, 1, 1] });
  const images: RawImage[] = [];
  for (const file of folder.files) images.push(decodeImage(await readFile(file), file));
  return { classes: folder.classes, images, labels: Int32Array.from(folder.labels) };
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(1)}%`;
}
