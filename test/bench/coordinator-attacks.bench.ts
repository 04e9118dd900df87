// Attack measurements against a coordinator on loopback (its own process, so its RSS is its own):
//   chunk flood  — six connections push chunked transfers toward a 256 MB declared payload, first as
//                  1-byte chunks, then as full-size chunks as fast as acks allow; RSS before, at peak,
//                  and after they disconnect;
//   socket churn — one token cycles 200 sockets (join, claim ready, leave) while two honest clients
//                  answer every round; rounds aggregated / kept in the window;
//   record churn — many connections come and go (half of them join); client records left.
// Prints one JSON object on stdout. Usage:
//   npx tsx --tsconfig tsconfig.base.json test/bench/coordinator-attacks.bench.ts [--quick]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { io, type Socket } from 'socket.io-client';
import { createParser } from '@fedsnell/protocol';

const QUICK = process.argv.includes('--quick');
const ROOT = join(__dirname, '../..');
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`${message}\n`);

interface Sample {
  rss?: number;
  heap?: number;
  buffers?: number;
  url?: string;
  records?: number;
  rounds?: string[];
}

/** The coordinator process and what it reports. */
class Target {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: ((sample: Sample) => boolean)[] = [];
  rss = 0;
  peakRss = 0;
  /** heap and array-buffer bytes of the last sample: what the process still holds, whatever RSS says */
  held = 0;
  url = '';

  constructor(over: Record<string, unknown>) {
    this.child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'test/bench/lib/attack-coordinator.ts'), JSON.stringify(over)], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json') },
    });
    this.child.stderr.resume();
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const sample = JSON.parse(line) as Sample;
      if (sample.rss !== undefined) {
        this.rss = sample.rss;
        this.peakRss = Math.max(this.peakRss, sample.rss);
        this.held = (sample.heap ?? 0) + (sample.buffers ?? 0);
      }
      for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i](sample)) this.waiters.splice(i, 1);
    });
  }

  next<K extends keyof Sample>(key: K, command?: string): Promise<NonNullable<Sample[K]>> {
    return new Promise((resolve) => {
      this.waiters.push((sample) => {
        const value = sample[key];
        if (value === undefined) return false;
        resolve(value as NonNullable<Sample[K]>);
        return true;
      });
      if (command) this.child.stdin.write(`${command}\n`);
    });
  }

  async start(): Promise<this> {
    this.url = await this.next('url');
    await this.next('rss');
    return this;
  }

  /** RSS after a full collection and a short settle. */
  async settledRss(): Promise<number> {
    this.child.stdin.write('gc\n');
    await sleep(1500);
    await this.next('rss');
    return this.rss;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}

function connect(url: string, auth: Record<string, unknown>): Promise<Socket | null> {
  const socket = io(url, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', () => {
      socket.close();
      resolve(null);
    });
  });
}

async function joinTask(socket: Socket, ready: boolean): Promise<void> {
  const ack = (await socket.timeout(5000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } })) as {
    ok: boolean;
    task?: { taskId: string; backbone: { sha256: string } };
  };
  if (ready && ack.ok && ack.task) await socket.timeout(5000).emitWithAck('ready', { taskId: ack.task.taskId, backbone: ack.task.backbone.sha256, examples: 8 });
}

const codeOf = (answer: unknown) => (answer as { ok: boolean; error?: { code: string } }).ok ? 'ok' : ((answer as { error: { code: string } }).error.code ?? 'error');

async function chunkFlood(): Promise<Record<string, unknown>> {
  const declared = 256 * MB;
  const target = await new Target({ limits: { maxUpdateBytes: declared } }).start();
  const baseline = await target.settledRss();
  const baselineHeld = target.held;
  const seconds = QUICK ? 4 : 10;
  const sockets = (await Promise.all(Array.from({ length: 6 }, (_, i) => connect(target.url, { token: 'attacker-token', clientId: `flood-${i}` })))).filter(
    (s): s is Socket => s !== null,
  );
  await Promise.all(sockets.map((s) => joinTask(s, false)));
  const sha256 = 'a'.repeat(64);
  const codes: Record<string, number> = {};
  const count = (code: string) => (codes[code] = (codes[code] ?? 0) + 1);
  // 1-byte chunks toward the declared payload, each transfer retried under a new id when refused
  const tinyEnd = Date.now() + seconds * 1000;
  let tinyChunks = 0;
  await Promise.all(
    sockets.map(async (s, i) => {
      for (let n = 0; Date.now() < tinyEnd; n++) {
        const answer = await s.timeout(5000).emitWithAck('chunk', { transferId: `tiny-${i}-${n}`, event: 'update', index: n % declared, total: declared, totalBytes: declared, sha256, bytes: new Uint8Array(1) });
        tinyChunks++;
        count(codeOf(answer));
      }
    }),
  );
  const tinyPeak = target.peakRss;
  // full-size chunks, four transfers per connection, until the server refuses more
  const chunkBytes = 768 * 1024;
  const total = Math.ceil(declared / chunkBytes);
  const full = new Uint8Array(chunkBytes).fill(7);
  const fullEnd = Date.now() + seconds * 1000;
  let bytesAccepted = 0;
  await Promise.all(
    sockets.flatMap((s, i) =>
      [0, 1, 2, 3].map(async (t) => {
        for (let index = 0; index < total && Date.now() < fullEnd; index++) {
          const answer = await s.timeout(10_000).emitWithAck('chunk', { transferId: `full-${i}-${t}`, event: 'update', index, total, totalBytes: declared, sha256, bytes: full });
          const code = codeOf(answer);
          count(code);
          if (code !== 'ok') break;
          bytesAccepted += chunkBytes;
        }
      }),
    ),
  );
  const heldPeak = target.peakRss;
  await sleep(1000);
  const whileHeld = target.rss;
  const heldWhileHeld = target.held;
  sockets.forEach((s) => s.disconnect());
  await sleep(2000);
  const after = await target.settledRss();
  const heldAfter = target.held;
  await target.close();
  return {
    connections: sockets.length,
    declaredBytes: declared,
    tinyChunksSent: tinyChunks,
    fullChunkBytesAccepted: bytesAccepted,
    answers: codes,
    rssMB: {
      baseline: +(baseline / MB).toFixed(1),
      peakTinyChunks: +(tinyPeak / MB).toFixed(1),
      peakFullChunks: +(heldPeak / MB).toFixed(1),
      whileHeld: +(whileHeld / MB).toFixed(1),
      afterDisconnect: +(after / MB).toFixed(1),
    },
    // JS heap + ArrayBuffers: the memory the coordinator itself holds (RSS keeps pages the allocator has not returned)
    heldMB: { baseline: +(baselineHeld / MB).toFixed(1), whileHeld: +(heldWhileHeld / MB).toFixed(1), afterDisconnect: +(heldAfter / MB).toFixed(1) },
  };
}

async function socketChurn(claimReady: boolean): Promise<Record<string, unknown>> {
  const windowMs = QUICK ? 8000 : 20_000;
  const target = await new Target({
    autoStart: true,
    rounds: { minClients: 2, maxClients: 50, fraction: 1, minReplies: 2, graceMs: 0, roundTimeoutMs: 3000, waitForClientsMs: 100, totalRounds: 10_000, reconnectGraceMs: 1000 },
  }).start();
  // two honest clients answer every round they are given
  const honest = await Promise.all(['honest-1', 'honest-2'].map((id) => connect(target.url, { token: 'legit-token', clientId: id })));
  for (const s of honest) {
    if (!s) throw new Error('an honest client could not connect');
    s.on('round:start', (start: { taskId: string; round: number; state: { name: string; shape: number[]; dtype: 'f32'; data: Uint8Array }[] }) => {
      const tensors = start.state.map((t) => ({ ...t, data: new Uint8Array(new Float32Array(t.data.slice().buffer).map((v) => v + 0.01).buffer) }));
      void s.timeout(5000).emitWithAck('update', { taskId: start.taskId, round: start.round, tensors, numExamples: 8, metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 1, seconds: 1 } }).catch(() => undefined);
    });
    await joinTask(s, true);
  }
  const end = Date.now() + windowMs;
  let opened = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (Date.now() < end) {
        const s = await connect(target.url, { token: 'attacker-token' });
        if (!s) {
          refused++;
          await sleep(200);
          continue;
        }
        opened++;
        await joinTask(s, claimReady).catch(() => undefined);
        await sleep(Math.random() * 2000);
        s.disconnect();
      }
    }),
  );
  const statuses = await target.next('rounds', 'rounds');
  honest.forEach((s) => s?.disconnect());
  await target.close();
  return {
    windowSeconds: windowMs / 1000,
    attackerSockets: 200,
    attackerClaimsReady: claimReady,
    attackerConnectionsOpened: opened,
    attackerHandshakesRefused: refused,
    rounds: { closed: statuses.length, aggregated: statuses.filter((s) => s === 'aggregated').length, kept: statuses.filter((s) => s === 'kept').length },
  };
}

async function recordChurn(): Promise<Record<string, unknown>> {
  const churns = QUICK ? 500 : 3000;
  const target = await new Target({}).start();
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      for (let n = worker; n < churns; n += 8) {
        const s = await connect(target.url, { token: 'attacker-token' });
        if (!s) continue;
        if (n % 2 === 0) await joinTask(s, false).catch(() => undefined);
        const gone = new Promise((resolve) => s.once('disconnect', resolve));
        s.disconnect();
        await gone;
        done++;
      }
    }),
  );
  await sleep(300);
  const records = await target.next('records', 'records');
  await target.close();
  return { connectionChurns: done, joinedHalf: true, recordsLeft: records };
}

async function main(): Promise<void> {
  const started = Date.now();
  log('chunk flood…');
  const flood = await chunkFlood();
  log('socket churn (attacker joins)…');
  const churn = await socketChurn(false);
  log('socket churn (attacker also claims ready)…');
  const churnReady = await socketChurn(true);
  log('record churn…');
  const records = await recordChurn();
  const result = {
    bench: 'coordinator-attacks',
    machine: { platform: process.platform, node: process.version, cpus: (await import('node:os')).cpus().length },
    quick: QUICK,
    chunkFlood: flood,
    socketChurn: churn,
    socketChurnClaimingReady: churnReady,
    recordChurn: records,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`coordinator-attacks failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
