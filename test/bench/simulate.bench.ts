// Simulation benchmark (not a jest test): the demo task with N clients, K sampled per round, run two ways.
// - in one process: `fedsnell simulate --clients N --clients-per-round K --rounds R` (N virtual clients,
//   one shared backbone, the real coordinator service and client core on loopback);
// - one OS process per client, the demo's way: `fedsnell coordinator` plus P `fedsnell client`
//   processes on the same data split (`fedsnell data export` + `data partition`, Dirichlet 0.5, seed 0)
//   and the same task settings, for PR rounds.
// Reports wall time, peak RSS (summed over every process of a side, sampled every 250 ms from /proc)
// and rounds per minute (rounds over the span from the first round's start to the last round's close,
// from the coordinator's rounds.json; the multi-process side also over the rounds that started after
// every client had joined), and the speed-up in rounds per minute. Prints one JSON object on stdout.
// Run: nice -n 5 npx tsx --tsconfig tsconfig.base.json test/bench/simulate.bench.ts \
//        [--clients 100] [--per-round 10] [--rounds 20] [--process-clients 100] [--process-rounds 3] [--per-class 250]
//        [--skip-processes]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? String(args[i + 1]) : fallback;
};
const CLIENTS = Number(option('--clients', '100'));
const PER_ROUND = Number(option('--per-round', '10'));
const ROUNDS = Number(option('--rounds', '20'));
const PROCESS_CLIENTS = Number(option('--process-clients', String(CLIENTS)));
const PROCESS_ROUNDS = Number(option('--process-rounds', '3'));
const PER_CLASS = Number(option('--per-class', '250'));
const SKIP_PROCESSES = args.includes('--skip-processes');
const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'bin/fedsnell.cjs');
const TASK = join(ROOT, 'deploy/tasks/mnist-snell.json');
const log = (line: string) => process.stderr.write(`${line}\n`);

interface RoundRecord {
  round: number;
  status: string;
  updates: number;
  startedAt: number;
  closedAt: number | null;
  metrics: Record<string, number>;
}

/** Resident memory of a process and all its descendants, in bytes, from /proc. */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      // field 24 of stat (index 21 after the name): resident pages
      rss.set(pid, Number(fields[21]) * 4096);
    } catch {
      // the process ended while being read
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Samples the summed RSS of this process's children (and theirs) until stopped; returns the peak. */
function rssSampler(): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    const own = treeRss(process.pid) - (process.memoryUsage().rss ?? 0);
    if (own > peak) peak = own;
  }, 250);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

function run(cliArgs: string[], stdout = false): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (stdout) process.stderr.write(d);
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { child, done: new Promise((r) => child.on('close', (code) => r({ code, out, err }))) };
}

function roundsPerMinute(records: RoundRecord[]): number {
  const closed = records.filter((r) => r.closedAt !== null);
  if (closed.length === 0) return 0;
  const span = (closed[closed.length - 1].closedAt as number) - closed[0].startedAt;
  return closed.length / (span / 60_000);
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function inProcess(work: string): Promise<Record<string, unknown>> {
  log(`in one process: ${CLIENTS} clients, ${PER_ROUND} per round, ${ROUNDS} rounds`);
  const sampler = rssSampler();
  const started = performance.now();
  const { done } = run(['simulate', '--clients', String(CLIENTS), '--clients-per-round', String(PER_ROUND), '--rounds', String(ROUNDS), '--per-class', String(PER_CLASS), '--no-baseline', '--json', '--out', join(work, 'sim')]);
  const result = await done;
  const wallSeconds = (performance.now() - started) / 1000;
  const peakRss = sampler.stop();
  if (result.code !== 0) throw new Error(`simulate exited with ${result.code}: ${result.out}${result.err}`);
  const records = JSON.parse(readFileSync(join(work, 'sim/state/rounds.json'), 'utf8')) as RoundRecord[];
  return {
    command: `fedsnell simulate --clients ${CLIENTS} --clients-per-round ${PER_ROUND} --rounds ${ROUNDS} --per-class ${PER_CLASS} --no-baseline`,
    processes: 1,
    rounds: records.length,
    wallSeconds,
    peakRssMB: peakRss / 2 ** 20,
    roundsPerMinute: roundsPerMinute(records),
    accuracy: records.map((r) => r.metrics['accuracy'] ?? null),
    updates: records.map((r) => r.updates),
  };
}

async function processPerClient(work: string): Promise<Record<string, unknown>> {
  log(`one process per client: ${PROCESS_CLIENTS} clients, ${PER_ROUND} per round, ${PROCESS_ROUNDS} rounds`);
  const data = join(work, 'mp/data');
  for (const step of [
    ['data', 'export', '--set', 'mnist', '--out', data, '--per-class', String(PER_CLASS), '--split', '0.2'],
    ['data', 'partition', '--data', join(data, 'train'), '--out', join(work, 'mp/clients'), '--clients', String(PROCESS_CLIENTS), '--alpha', '0.5', '--seed', '0'],
  ]) {
    const r = await run(step).done;
    if (r.code !== 0) throw new Error(`fedsnell ${step.join(' ')}: ${r.err}`);
  }
  // the demo task, read now, with the same client counts as the simulation
  const task = JSON.parse(readFileSync(TASK, 'utf8')) as { rounds?: Record<string, unknown> };
  const minReplies = Math.min(Number(task.rounds?.['minReplies'] ?? 1), PER_ROUND);
  task.rounds = { ...task.rounds, totalRounds: PROCESS_ROUNDS, fraction: PER_ROUND / PROCESS_CLIENTS, minClients: PER_ROUND, maxClients: PER_ROUND, minReplies };
  writeFileSync(join(work, 'mp/task.json'), JSON.stringify(task));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sampler = rssSampler();
  const started = performance.now();
  const startedAt = Date.now();
  const coordinator = run([
    'coordinator', '--backbone', join(ROOT, 'models/fmnist-vit'), '--eval-data', join(data, 'test'), '--task', join(work, 'mp/task.json'), '--state', join(work, 'mp/state'),
    '--port', String(port), '--client-token', 'c1', '--admin-token', 'a1', '--backend', 'wasm', '--exit-when-done', '--max-connections-per-token', String(PROCESS_CLIENTS),
  ]);
  const clients = Array.from({ length: PROCESS_CLIENTS }, (_, k) =>
    run(['client', '--server', url, '--token', 'c1', '--data', join(work, `mp/clients/client-${k}`), '--client-id', `demo-${k}`, '--backend', 'wasm', '--cache', join(work, `mp/cache/client-${k}`), '--wait-for-server', '--json']),
  );
  // when every client had joined: rounds that started later ran without start-up load beside them
  let allJoinedAt: number | null = null;
  const watch = setInterval(() => {
    void fetch(`${url}/api/clients`, { headers: { Authorization: 'Bearer a1' } })
      .then((res) => (res.ok ? (res.json() as Promise<{ clients: { joined?: boolean; connected?: boolean }[] }>) : null))
      .then((body) => {
        if (allJoinedAt === null && body && body.clients.filter((c) => c.connected).length >= PROCESS_CLIENTS) allJoinedAt = Date.now();
      })
      .catch(() => undefined);
  }, 500);
  const coordinatorResult = await coordinator.done;
  const clientResults = await Promise.all(clients.map((c) => c.done));
  clearInterval(watch);
  const wallSeconds = (performance.now() - started) / 1000;
  const peakRss = sampler.stop();
  if (coordinatorResult.code !== 0) throw new Error(`the coordinator exited with ${coordinatorResult.code}: ${coordinatorResult.err.slice(-2000)}`);
  const records = JSON.parse(readFileSync(join(work, 'mp/state/rounds.json'), 'utf8')) as RoundRecord[];
  const joined = allJoinedAt;
  const afterJoin = joined === null ? [] : records.filter((r) => r.startedAt >= joined);
  return {
    command: `fedsnell coordinator (task: the demo task, ${PER_ROUND} of ${PROCESS_CLIENTS} per round, ${PROCESS_ROUNDS} rounds) + ${PROCESS_CLIENTS} × fedsnell client, one process each`,
    processes: PROCESS_CLIENTS + 1,
    rounds: records.length,
    wallSeconds,
    peakRssMB: peakRss / 2 ** 20,
    roundsPerMinute: roundsPerMinute(records),
    secondsUntilAllJoined: joined === null ? null : (joined - startedAt) / 1000,
    roundsAfterAllJoined: afterJoin.length,
    roundsPerMinuteAfterAllJoined: afterJoin.length > 0 ? roundsPerMinute(afterJoin) : null,
    clientsFailed: clientResults.filter((r) => r.code !== 0).length,
    accuracy: records.map((r) => r.metrics['accuracy'] ?? null),
    updates: records.map((r) => r.updates),
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'fedsnell-simulate-bench-'));
  try {
    const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGB: totalmem() / 2 ** 30, loadavg1mAtStart: loadavg()[0], node: process.version, backend: 'wasm (tfjs, Node, one thread)' };
    const single = await inProcess(work);
    log(JSON.stringify(single));
    const multi = SKIP_PROCESSES ? null : await processPerClient(work);
    if (multi) log(JSON.stringify(multi));
    const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'simulate',
        date: new Date().toISOString(),
        machine,
        task: 'deploy/tasks/mnist-snell.json (demo task), backbone models/fmnist-vit, MNIST per class ' + PER_CLASS + ' (80% training pool, 20% held out)',
        inProcess: single,
        processPerClient: multi,
        speedup: multi ? { roundsPerMinute: ratio(single['roundsPerMinute'], multi['roundsPerMinute']), roundsPerMinuteAfterAllJoined: ratio(single['roundsPerMinute'], multi['roundsPerMinuteAfterAllJoined']) } : null,
        targets: { inProcessPeakRssMB: 2048, speedup: 5 },
      })}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  log(`simulate.bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
