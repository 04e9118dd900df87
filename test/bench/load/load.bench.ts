// Load benchmark (not a jest test; loopback only, bounded in clients, rounds and time): N lightweight
// socket.io clients (the protocol's msgpack codec, one per-device token each, a precomputed update, no
// training) join one coordinator (its own process: test/bench/load/coordinator-child.ts), are all
// sampled every round and reply at once. Reports the coordinator's peak RSS and event-loop lag, per
// round the time from round:start to the last ack and from the last ack to round:end (the close), and
// bytes/s through the coordinator.
// Run: npx tsx --tsconfig tsconfig.base.json test/bench/load/load.bench.ts \
//        [--shape test|vit-b] [--clients 1000] [--rounds 3] [--strategy fedavg|snell-exact] [--max-seconds 600]
// --shape test: the tensors of test/fixtures/vit-timm-tiny (embed 32, depth 2, mlp 128) with SNELL r = 8;
// --shape vit-b: ViT-B/16 r = 8 (5.35 MB per update, chunked). Prints one JSON object on stdout.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { io, type Socket } from 'socket.io-client';
import { createParser, encodePayload, encodeTensor, newTransferId, resolveLimits, splitTransfer, type Ack, type Chunk, type RoundStart, type WireTensor } from '@fedsnell/protocol';
import { TEST_BACKBONE_SHAPE, VIT_B_SHAPE, vitBState } from '../lib/vit-b-update';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? String(args[i + 1]) : fallback;
};
const SHAPE = option('--shape', 'test') === 'vit-b' ? 'vit-b' : 'test';
const CLIENTS = Number(option('--clients', SHAPE === 'test' ? '1000' : '200'));
const ROUNDS = Number(option('--rounds', '3'));
const STRATEGY = option('--strategy', 'fedavg');
const MAX_SECONDS = Number(option('--max-seconds', '600'));
const log = (line: string) => process.stderr.write(`${line}\n`);
const limits = resolveLimits();

interface Child {
  url: string;
  taskId: string;
  backbone: string;
  request(line: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startChild(): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'coordinator-child.ts'), JSON.stringify({ shape: SHAPE, clients: CLIENTS, rounds: ROUNDS, strategy: STRATEGY })], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '../../../tsconfig.base.json') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((value: Record<string, unknown>) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line) as Record<string, unknown>));
  const nextLine = () => new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the coordinator process exited with code ${code} before it listened`))));
  exited.catch(() => undefined);
  const first = await Promise.race([nextLine(), exited]);
  return {
    url: String(first.url),
    taskId: String(first.taskId),
    backbone: String(first.backbone),
    request: (line) => {
      const answer = nextLine();
      child.stdin.write(`${line}\n`);
      return answer;
    },
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

interface RoundTiming {
  firstStart: number;
  lastStart: number;
  lastAck: number;
  end: number;
  accepted: number;
  refused: number;
  /** chunked updates the server asked to send again later (TOO_MANY_TRANSFERS) */
  busyRetries: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  const global = vitBState(0, SHAPE === 'vit-b' ? VIT_B_SHAPE : TEST_BACKBONE_SHAPE);
  // every client sends the same precomputed update: global + 0.001 (FedAvg's result is then that update)
  const tensors: WireTensor[] = [...global].map(([name, t]) => encodeTensor(name, t.shape, t.data.map((v) => v + 0.001), 'f32'));
  const metrics = { loss: 1, accuracy: 0.5, examplesPerSecond: 10, seconds: 1 };
  const payloads = new Map<number, { bytes: number; chunks: Chunk[] | null; update: Record<string, unknown> }>();
  const payloadFor = async (round: number) => {
    let p = payloads.get(round);
    if (!p) {
      const update = { taskId: 'load-task', round, tensors, numExamples: 8, metrics };
      const bytes = encodePayload(update);
      p = { bytes: bytes.byteLength, chunks: bytes.byteLength > limits.maxMessageBytes ? await splitTransfer('update', bytes, { chunkBytes: limits.chunkBytes }) : null, update };
      payloads.set(round, p);
    }
    return p;
  };
  await payloadFor(0);
  log(`coordinator (${SHAPE}, ${STRATEGY}) for ${CLIENTS} clients × ${ROUNDS} rounds; update ${payloads.get(0)?.bytes} bytes`);
  const child = await startChild();
  const timings = new Map<number, RoundTiming>();
  const timing = (round: number): RoundTiming => {
    let t = timings.get(round);
    if (!t) timings.set(round, (t = { firstStart: Infinity, lastStart: 0, lastAck: 0, end: 0, accepted: 0, refused: 0, busyRetries: 0 }));
    return t;
  };
  let downBytes = 0;
  let upBytes = 0;
  let finished = 0;
  let failure: string | null = null;
  /** refusals and errors by code or message, counted (the run goes on until its rounds end or time is up) */
  const problems: Record<string, number> = {};
  const problem = (what: string) => {
    problems[what] = (problems[what] ?? 0) + 1;
    failure ??= what;
  };
  let currentRound = 0;
  const sockets: Socket[] = [];

  const reply = async (s: Socket, round: number) => {
    const p = await payloadFor(round);
    let ack: Ack;
    const t = timing(round);
    if (p.chunks) {
      // the server refuses a transfer while it holds its most chunked bytes (TOO_MANY_TRANSFERS):
      // retry later as a new transfer, as PROTOCOL.md §7 says, after a random pause
      for (let attempt = 0; ; attempt++) {
        const transferId = newTransferId();
        ack = { ok: false, error: { code: 'TRANSFER', message: 'no chunk sent' } } as Ack;
        for (const chunk of p.chunks) {
          ack = (await s.timeout(600_000).emitWithAck('chunk', { ...chunk, transferId })) as Ack;
          if (!ack.ok) break;
        }
        if (ack.ok || ack.error.code !== 'TOO_MANY_TRANSFERS' || performance.now() > deadline) break;
        t.busyRetries++;
        await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1500 * Math.min(attempt + 1, 8)));
      }
    } else ack = (await s.timeout(600_000).emitWithAck('update', p.update)) as Ack;
    upBytes += p.bytes;
    if (ack.ok) t.accepted++;
    else {
      t.refused++;
      problem(`update refused: ${ack.error.code}`);
    }
    t.lastAck = performance.now();
  };
  const began = (round: number) => {
    const t = timing(round);
    const now = performance.now();
    t.firstStart = Math.min(t.firstStart, now);
    t.lastStart = Math.max(t.lastStart, now);
  };

  log('connecting…');
  const joinStarted = performance.now();
  for (let k = 0; k < CLIENTS; k += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, CLIENTS - k) }, async (_, j) => {
        const s = io(child.url, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: `tok-${k + j}`, clientId: `c-${k + j}` } });
        sockets.push(s);
        s.on('round:start', (start: RoundStart) => {
          downBytes += start.state.reduce((a, t) => a + t.data.byteLength, 0);
          began(start.round);
          void reply(s, start.round).catch((e: Error) => problem(e.message));
        });
        // a large round:start arrives chunked: each chunk is acked; the last one starts the reply
        s.on('chunk', (chunk: Chunk, ack?: (a: Ack) => void) => {
          downBytes += chunk.bytes.byteLength;
          ack?.({ ok: true });
          if (chunk.index === chunk.total - 1) {
            began(currentRound);
            void reply(s, currentRound).catch((e: Error) => problem(e.message));
          }
        });
        s.on('round:end', (end: { round: number }) => {
          const t = timing(end.round);
          if (!t.end) t.end = performance.now();
          currentRound = Math.max(currentRound, end.round + 1);
        });
        s.on('task:finished', () => finished++);
        s.on('disconnect', (reason) => {
          if (reason !== 'io client disconnect') problem(`disconnected: ${reason}`);
        });
        await new Promise<void>((resolve, reject) => {
          s.once('connect', () => resolve());
          s.once('connect_error', (e) => reject(e));
        });
        const ack = (await s.timeout(60_000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' }, ready: { taskId: child.taskId, backbone: child.backbone, examples: 8 } })) as Ack;
        if (!ack.ok) throw new Error(`join refused: ${ack.error.code} ${ack.error.message}`);
      }),
    );
  }
  const joinMs = performance.now() - joinStarted;
  log(`${CLIENTS} joined in ${Math.round(joinMs)} ms; rounds…`);
  let reported = 0;
  while (finished < CLIENTS && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const done = [...timings.values()].filter((t) => t.end).length;
    if (done !== reported) log(`  rounds ended: ${(reported = done)}/${ROUNDS}`);
  }
  const stats = (await child.request('stats')).stats as { peakRssMb: number; eventLoopLagMs: Record<string, number>; rounds: unknown[] };
  sockets.forEach((s) => s.disconnect());
  await child.close();
  const rounds = [...timings].sort(([a], [b]) => a - b).map(([round, t]) => ({
    round,
    accepted: t.accepted,
    refused: t.refused,
    busyRetries: t.busyRetries,
    announceMs: Math.round(t.lastStart - t.firstStart),
    collectMs: Math.round(t.lastAck - t.firstStart),
    closeMs: t.end ? Math.round(t.end - t.lastAck) : null,
    roundMs: t.end ? Math.round(t.end - t.firstStart) : null,
  }));
  const wallS = (performance.now() - started) / 1000;
  const ended = [...timings.values()].filter((t) => t.end);
  const roundSeconds = ended.reduce((a, t) => a + (t.end - t.firstStart) / 1000, 0);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'load',
      machine: `2-core CPU shared with other work (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end), Node ${process.version}, no GPU; clients and coordinator on loopback, coordinator in its own process`,
      shape: SHAPE === 'vit-b' ? 'ViT-B/16 r=8 (72 SNELL modules, head, cls_token)' : 'test backbone test/fixtures/vit-timm-tiny at SNELL r=8 (12 modules, head, cls_token)',
      strategy: STRATEGY,
      clients: CLIENTS,
      roundsAsked: ROUNDS,
      roundsEnded: ended.length,
      finished: finished === CLIENTS,
      firstProblem: failure,
      problems,
      updateBytes: payloads.get(0)?.bytes,
      joinMs: Math.round(joinMs),
      coordinator: stats,
      rounds,
      bytesPerSecondInRounds: roundSeconds ? Math.round((upBytes + downBytes) / roundSeconds) : null,
      bytes: { up: upBytes, down: downBytes },
      wallS: Math.round(wallS),
      stoppedByTimeLimit: performance.now() >= deadline,
    })}\n`,
  );
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`load bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
