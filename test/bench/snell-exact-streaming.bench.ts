// Benchmark (not a jest test): SNELL-exact that streams. N synthetic ViT-B/16 r = 8 updates are
// accepted one by one (Strategy.accept, as the coordinator's round loop does), their exact sparse
// updates summed in worker threads while the next ones arrive; then the round closes (aggregate).
// Compares with the batch path of before (every client's S(κ(A_k, B_k)) computed at close, in this
// thread), and times the re-fit separately (the close is normalisation, the factor average's gaps and
// the re-fit), with the gap each number of re-fit steps leaves.
// Run: npx tsx --tsconfig tsconfig.base.json test/bench/snell-exact-streaming.bench.ts \
//        [--clients 100] [--workers 2] [--before-clients 3] [--refit-steps 1,2] [--refit-clients 2] [--drift 0.1]
// Prints one JSON object on stdout (progress on stderr).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { useBackend } from '@fedsnell/backends';
import { exactSparseAverage, snellExact, type ClientUpdate, type SparseDeltaEngine } from '@fedsnell/federation';
import { workerSparseDeltas } from '@fedsnell/federation/node';
import { createRng } from '@fedsnell/snell';
import { VIT_B_SNELL, vitBState } from './lib/vit-b-update';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CLIENTS = arg('--clients', 100);
const WORKERS = arg('--workers', 2);
const BEFORE_CLIENTS = arg('--before-clients', 3);
const listArg = (name: string, fallback: number[]): number[] => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1].split(',').map(Number) : fallback;
};
const REFIT_STEPS = listArg('--refit-steps', [1, 2]);
const REFIT_CLIENTS = arg('--refit-clients', 2);
/** re-fit rounds: clients that started from one global and drifted ±DRIFT per factor entry */
const DRIFT = arg('--drift', 0.1);
const snell = VIT_B_SNELL;
const log = (line: string) => process.stderr.write(`${line}\n`);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 102.4) / 10;

/** The engine, with a way to wait until every sum it was given is done. */
function drained(engine: SparseDeltaEngine): { engine: SparseDeltaEngine; idle: () => Promise<void> } {
  const inFlight = new Set<Promise<void>>();
  return {
    engine: {
      ...engine,
      accumulate(modules, weight) {
        const p = engine.accumulate(modules, weight);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p)).catch(() => undefined);
        return p;
      },
    },
    idle: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

const update = (k: number): ClientUpdate => ({ clientId: `c${k}`, numExamples: 50 + k, state: vitBState(k + 1) });

/** A client that trained from the global `vitBState(0)`: every factor entry scaled by 1 ± drift. */
function drifted(k: number, drift: number): ClientUpdate {
  const rng = createRng(1000 + k);
  const state = new Map([...vitBState(0)].map(([name, t]) => [name, { shape: t.shape, data: t.data.map((v) => v * (1 + drift * (2 * rng() - 1))) }]));
  return { clientId: `d${k}`, numExamples: 50 + k, state };
}

/** The engine, timing its close-time calls. */
function timed(engine: SparseDeltaEngine, spent: Record<string, number>): SparseDeltaEngine {
  const time =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await f(...a);
      } finally {
        spent[name] = Math.round((spent[name] ?? 0) + performance.now() - t0);
      }
    };
  return { ...engine, take: time('takeMs', engine.take), gaps: time('gapsMs', engine.gaps) };
}

async function streamedRound(workers: SparseDeltaEngine, clients: number, refitSteps: number, make: (k: number) => ClientUpdate = update) {
  const spent: Record<string, number> = {};
  const { engine, idle } = drained(timed(workers, spent));
  const strategy = snellExact({ snell, refitSteps, sparseDeltas: engine });
  const global = vitBState(0);
  const ctx = { round: 0, global, rng: createRng(1) };
  const updates: ClientUpdate[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  for (let k = 0; k < clients; k++) {
    const u = make(k);
    updates.push(u);
    strategy.accept?.(ctx, u);
    if ((k + 1) % 10 === 0) log(`  accepted ${k + 1}/${clients}`);
    // other work (a socket's next message) gets its turn, as between two arrivals
    await new Promise((resolve) => setImmediate(resolve));
  }
  const acceptedMs = performance.now() - t0;
  await idle();
  const drainedMs = performance.now() - t0;
  lag.disable();
  for (const key of Object.keys(spent)) delete spent[key];
  const t1 = performance.now();
  const result = await strategy.aggregate(ctx, updates);
  const closeMs = performance.now() - t1;
  const sparseMs = (spent['takeMs'] ?? 0) + (spent['gapsMs'] ?? 0);
  clearInterval(sampler);
  return {
    peakRssMb: mb(peakRss),
    clients,
    refitSteps,
    acceptAllMs: Math.round(acceptedMs),
    sumsDoneMs: Math.round(drainedMs),
    perClientMsOnWorkers: Math.round(drainedMs / clients),
    eventLoopLagWhileSummingMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    closeMs: Math.round(closeMs),
    closeParts: {
      ...spent,
      restMs: Math.round(closeMs - sparseMs),
      note: 'takeMs: the means of the sums (workers); gapsMs: S(κ) of the averaged (and re-fitted) factors against them (workers); restMs: the dense average, checks and the re-fit (main thread)',
    },
    streamed: result?.info?.['streamed'],
    refitted: result?.info?.['refitted'],
    meanGap: result?.info?.['meanGap'],
    maxGap: result?.info?.['maxGap'],
    meanGapFactorAverage: result?.info?.['meanGapFactorAverage'],
  };
}

const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

async function main() {
  const loadAtStart = load();
  await useBackend('wasm');
  const started = performance.now();
  const workers = await workerSparseDeltas(snell, { workers: WORKERS });
  try {
    log(`streamed: ${CLIENTS} clients accepted one by one, ${WORKERS} workers, close without re-fit…`);
    const stream = await streamedRound(workers, CLIENTS, 0);
    const rssAfterStream = peakRssMb();
    const refits: Awaited<ReturnType<typeof streamedRound>>[] = [];
    for (const steps of REFIT_CLIENTS > 0 ? [0, ...REFIT_STEPS.filter((n) => n > 0)] : []) {
      log(`re-fit: ${REFIT_CLIENTS} clients drifted ±${DRIFT} from one global, close with ${steps} re-fit steps…`);
      refits.push(await streamedRound(workers, REFIT_CLIENTS, steps, (k) => drifted(k, DRIFT)));
    }
    log(`before: the batch path (every S(κ(A_k, B_k)) at close, this thread) over ${BEFORE_CLIENTS} clients…`);
    const beforeUpdates = Array.from({ length: BEFORE_CLIENTS }, (_, k) => update(k));
    const t0 = performance.now();
    exactSparseAverage(beforeUpdates, snell);
    const beforePerClientMs = (performance.now() - t0) / BEFORE_CLIENTS;
    beforeUpdates.length = 0;

    process.stdout.write(
      `${JSON.stringify({
        bench: 'snell-exact-streaming',
        machine: `2-core CPU shared with other work (load average ${loadAtStart} at the start, ${load()} at the end), Node ${process.version}, no GPU; sums in float64 JS in worker threads, re-fit on tfjs wasm in the main thread`,
        model: 'ViT-B/16 (embed 768, depth 12, mlp 3072), SNELL r=8 heads=2 s=0.9 on q,k,v,proj,fc1,fc2 of every block (72 modules, 85M merged entries), 10-class head, cls_token',
        workers: WORKERS,
        before: {
          path: 'batch: exactSparseAverage at close in the main thread (float64 reference, unrolled merge)',
          measuredClients: BEFORE_CLIENTS,
          perClientMs: Math.round(beforePerClientMs),
          closeMsFor: { clients: CLIENTS, ms: Math.round(beforePerClientMs * CLIENTS), note: 'per-client time × clients, plus the re-fit' },
        },
        after: stream,
        refit: {
          clients: REFIT_CLIENTS,
          drift: DRIFT,
          note: 'the same close with 0 and more re-fit steps, on clients that trained from one global (each factor entry × (1 ± drift)); close = normalisation + gaps (independent of the client count) + re-fit (per module on tfjs in the main thread, also independent of the client count)',
          rounds: refits.map((r) => ({
            refitSteps: r.refitSteps,
            closeMs: r.closeMs,
            refitMs: r.closeMs - (refits[0]?.closeMs ?? 0),
            closeParts: r.closeParts,
            refitted: r.refitted,
            meanGap: r.meanGap,
            maxGap: r.maxGap,
            meanGapFactorAverage: r.meanGapFactorAverage,
          })),
        },
        peakRssMb: {
          streamedRound: stream.peakRssMb,
          process: rssAfterStream,
          end: peakRssMb(),
          note: `streamedRound: RSS sampled every 50 ms during the streamed round (its ${CLIENTS} held updates, ${mb(CLIENTS * 4 * 1335562)} MB of float32, as the coordinator holds them, and the workers' float64 sums); end includes the batch path measured last`,
        },
        wallS: Math.round((performance.now() - started) / 1000),
      })}\n`,
    );
  } finally {
    await workers.close();
  }
}

main().catch((err) => {
  process.stderr.write(`snell-exact streaming bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
