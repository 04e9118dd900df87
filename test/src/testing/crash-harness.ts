// Kills a coordinator child with SIGKILL again and again, at named points of the round-closing path
// (FEDSNELL_FAULT) and at random times, while lightweight socket.io clients keep sending updates; then
// lets one last child finish the task and reports what every client saw and what the state folder holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { createParser, decodeTensor, encodeTensor, type Ack, type JoinAck, type RoundStart } from '@fedsnell/protocol';
import { parseSafetensors } from '@fedsnell/tensor-io';
import { mulberry32 } from '@fedsnell/util';
import { freePort, sleep } from './processes';
import { REPO } from './run-cli';

/** The crash points of apps/coordinator/src/lib/fault.ts (named here: tests do not import app code). */
export const FAULT_POINTS = ['round-open', 'update-journaled', 'aggregated', 'checkpoint-temp', 'checkpoint-rename', 'history-temp', 'history-rename'] as const;

const CHILD = join(REPO, 'apps/coordinator/src/testing/crash-coordinator.ts');
const ADMIN = 'crash-admin';

export interface CrashOptions {
  kills: number;
  rounds: number;
  clients: number;
  seed: number;
}

export interface KillReport {
  how: string;
  /** spawn → serving, ms (mostly loading the TypeScript sources) */
  startMs: number;
  /** the coordinator's own state recovery (temp files, checkpoint, history, journal replay), ms */
  recoverMs: number | null;
  /** spawn → first round closed by this child (null: it closed none before it died) */
  firstCloseMs: number | null;
}

export interface RoundSeen {
  round: number;
  status: string;
  updates: number;
}

export interface CrashReport {
  kills: KillReport[];
  /** rounds as /api/rounds lists them at the end */
  history: RoundSeen[];
  /** round → client ids that were told their update was accepted (ok or DUPLICATE) */
  acked: Map<number, Set<string>>;
  /** head.bias of the last checkpoint (each client adds k + 1 per round: FedAvg moves it by the mean) */
  finalBias: number[];
  /** temp files and journals left in the state folder after the clean stop */
  leftovers: string[];
}

const seeded = mulberry32;

/** A client that answers every round:start with state + delta and sends again until it is acknowledged. */
class LightClient {
  readonly socket: Socket;
  private pending: RoundStart | null = null;
  private sending = false;
  private stopped = false;

  constructor(url: string, readonly id: string, private readonly delta: number, private readonly acked: Map<number, Set<string>>, private readonly rng: () => number) {
    this.socket = connect(url, {
      parser: createParser(),
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      auth: { token: 'crash-client', clientId: id },
    });
    this.socket.on('connect', () => void this.join());
    this.socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') this.stopped = true;
    });
    this.socket.on('round:start', (start: RoundStart) => {
      if (this.acked.get(start.round)?.has(this.id)) return;
      this.pending = start;
      void this.send();
    });
  }

  private async join(): Promise<void> {
    const ack = (await this.socket.timeout(5000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } }).catch(() => null)) as JoinAck | null;
    if (!ack?.ok) return;
    await this.socket.timeout(5000).emitWithAck('ready', { taskId: ack.task.taskId, backbone: ack.task.backbone.sha256, examples: 4 }).catch(() => null);
    void this.send();
  }

  private async send(): Promise<void> {
    if (this.sending || !this.pending || !this.socket.connected || this.stopped) return;
    this.sending = true;
    const start = this.pending;
    try {
      await sleep(Math.floor(this.rng() * 40));
      const tensors = start.state.map((t) => encodeTensor(t.name, t.shape, decodeTensor(t).map((v) => v + this.delta)));
      const update = { taskId: start.taskId, round: start.round, tensors, numExamples: 4, metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 10, seconds: 1 } };
      const ack = (await this.socket.timeout(5000).emitWithAck('update', update).catch(() => null)) as Ack | null;
      if (ack && (ack.ok || ack.error.code === 'DUPLICATE')) {
        const set = this.acked.get(start.round) ?? new Set<string>();
        set.add(this.id);
        this.acked.set(start.round, set);
        if (this.pending === start) this.pending = null;
      }
    } finally {
      this.sending = false;
    }
    // not acknowledged (refused, no ack before a kill) or a newer round arrived meanwhile: try again
    if (this.pending) setTimeout(() => void this.send(), this.pending === start ? 200 : 0);
  }
}

class Child {
  readonly process: ChildProcess;
  readonly spawnedAt = Date.now();
  output = '';
  readonly exited: Promise<void>;
  listeningAt: number | null = null;

  constructor(args: string[], fault: string | null) {
    const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.base.json') };
    if (fault) env['FEDSNELL_FAULT'] = fault;
    else delete env['FEDSNELL_FAULT'];
    this.process = spawn(process.execPath, ['--require', 'tsx/cjs', CHILD, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
      if (this.listeningAt === null && this.output.includes('listening ')) this.listeningAt = Date.now();
    };
    this.process.stdout?.on('data', collect);
    this.process.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => this.process.on('close', () => resolve()));
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async listening(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.listeningAt === null) {
      if (!this.alive) throw new Error(`coordinator child exited before listening: ${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`coordinator child did not listen within ${timeoutMs} ms: ${this.output.slice(-2000)}`);
      await sleep(20);
    }
  }
}

async function api<T>(port: number, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

const closedRounds = async (port: number) => (await api<{ rounds: RoundSeen[] }>(port, '/api/rounds')).rounds.filter((r) => r.status !== 'open');

export async function runCrashScenario(o: CrashOptions): Promise<CrashReport> {
  const dir = await mkdtemp(join(tmpdir(), 'fedsnell-crash-'));
  const state = join(dir, 'state');
  const weights = join(dir, 'model.safetensors');
  await writeFile(weights, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  const port = await freePort();
  const args = [state, String(port), weights, String(o.rounds), String(o.clients)];
  const rng = seeded(o.seed);
  const acked = new Map<number, Set<string>>();
  const clients: LightClient[] = [];
  const kills: KillReport[] = [];
  let child: Child | null = null;
  try {
    for (let i = 0; i < o.kills; i++) {
      // every named point first (a random pass 1..3 through it), then random times
      const point = i < FAULT_POINTS.length ? FAULT_POINTS[i] : rng() < 0.5 ? FAULT_POINTS[Math.floor(rng() * FAULT_POINTS.length)] : null;
      const fault = point ? `after:${point}:${1 + Math.floor(rng() * 3)}` : null;
      const current = new Child(args, fault);
      child = current;
      await current.listening();
      if (clients.length === 0) for (let k = 0; k < o.clients; k++) clients.push(new LightClient(`http://127.0.0.1:${port}`, `crash-${k}`, k + 1, acked, seeded(o.seed * 31 + k)));
      const before = (await closedRounds(port).catch(() => [])).length;
      let firstCloseMs: number | null = null;
      const watch = (async () => {
        while (current.alive && firstCloseMs === null) {
          const now = (await closedRounds(port).catch(() => null))?.length;
          if (now !== undefined && now > before) firstCloseMs = Date.now() - current.spawnedAt;
          await sleep(25);
        }
      })();
      if (fault) {
        // a point may never come (the task finished first): then this child is the last one
        const deadline = Date.now() + 30_000;
        while (current.alive && Date.now() < deadline) {
          const status = await api<{ state: string }>(port, '/api/status').catch(() => null);
          if (status?.state === 'finished') break;
          await sleep(50);
        }
      } else {
        await sleep(100 + Math.floor(rng() * 700));
      }
      let how = fault ?? 'random time';
      if (current.alive) {
        const finished = (await api<{ state: string }>(port, '/api/status').catch(() => null))?.state === 'finished';
        if (finished) break;
        current.process.kill('SIGKILL');
        if (fault) how = `random time (${fault} not reached)`;
      }
      await current.exited;
      await watch;
      const recovered = /recoveredInMs=(\d+)/.exec(current.output);
      kills.push({ how, startMs: (current.listeningAt ?? 0) - current.spawnedAt, recoverMs: recovered ? Number(recovered[1]) : null, firstCloseMs });
      child = null;
    }
    child ??= new Child(args, null);
    await child.listening();
    if (clients.length === 0) for (let k = 0; k < o.clients; k++) clients.push(new LightClient(`http://127.0.0.1:${port}`, `crash-${k}`, k + 1, acked, seeded(o.seed * 31 + k)));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await api<{ state: string }>(port, '/api/status').catch(() => null);
      if (status?.state === 'finished') break;
      if (Date.now() > deadline) throw new Error(`the task did not finish: ${child.output.slice(-3000)}`);
      await sleep(50);
    }
    const history = await closedRounds(port);
    for (const c of clients) c.socket.disconnect();
    child.process.kill('SIGTERM');
    await child.exited;
    child = null;
    const names = [...(await readdir(state)), ...(await readdir(join(state, 'wal'))).map((n) => `wal/${n}`)];
    const last = names.filter((n) => /^round-\d+\.safetensors$/.test(n)).sort().at(-1) ?? '';
    const parsed = parseSafetensors(await readFile(join(state, last)));
    return {
      kills,
      history: history.map(({ round, status, updates }) => ({ round, status, updates })),
      acked,
      finalBias: Array.from(parsed.tensors.get('head.bias')?.data ?? []),
      leftovers: names.filter((n) => n.endsWith('.tmp') || n.startsWith('wal/')),
    };
  } finally {
    for (const c of clients) c.socket.disconnect();
    if (child?.alive) child.process.kill('SIGKILL');
    await child?.exited;
    await rm(dir, { recursive: true, force: true });
  }
}
