// Crash recovery of the coordinator: N SIGKILLs of a coordinator child (every FEDSNELL_FAULT point
// first, then random points and random times) while lightweight clients keep answering rounds; one
// last child finishes the task on the same state folder. Counts lost rounds (a round missing, recorded
// twice, or aggregated without an update some client was told was accepted) and measures recovery
// (the coordinator's state recovery, process start → serving, serving → first round closed). Prints one JSON object on stdout. Usage:
//   npx tsx --tsconfig tsconfig.base.json test/bench/crash-recovery.bench.ts [--kills 60] [--rounds 150] [--clients 3] [--seed 1]
import { runCrashScenario } from '../src/testing/crash-harness';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};

async function main(): Promise<void> {
  const options = { kills: flag('kills', 60), rounds: flag('rounds', 150), clients: flag('clients', 3), seed: flag('seed', 1) };
  const started = Date.now();
  const report = await runCrashScenario(options);
  const records = report.history;
  const expected = Array.from({ length: options.rounds }, (_, i) => i);
  const missing = expected.filter((r) => !records.some((x) => x.round === r));
  const twice = expected.filter((r) => records.filter((x) => x.round === r).length > 1);
  const lostAcks = [...report.acked].filter(([round, ids]) => {
    const record = records.find((r) => r.round === round);
    return record?.status !== 'aggregated' || record.updates < ids.size;
  }).map(([round]) => round);
  const starts = report.kills.map((k) => k.startMs);
  const closes = report.kills.flatMap((k) => (k.firstCloseMs === null ? [] : [k.firstCloseMs - k.startMs]));
  const recovers = report.kills.flatMap((k) => (k.recoverMs === null ? [] : [k.recoverMs]));
  const byHow: Record<string, number> = {};
  for (const k of report.kills) {
    const key = k.how.startsWith('after:') ? k.how.split(':')[1] : 'random time';
    byHow[key] = (byHow[key] ?? 0) + 1;
  }
  const summary = {
    options,
    machine: 'loopback, coordinator child under tsx, FedAvg on a 6-value state',
    kills: report.kills.length,
    killsBy: byHow,
    roundsRecorded: records.length,
    lostRounds: missing.length + twice.length + lostAcks.length,
    missing,
    recordedTwice: twice,
    acknowledgedButNotAggregated: lostAcks,
    notAggregated: records.filter((r) => r.status !== 'aggregated').map((r) => r.round),
    finalBias: report.finalBias,
    expectedBias: (options.rounds * (options.clients + 1)) / 2,
    leftovers: report.leftovers,
    // process start → serving: loading the TypeScript sources through tsx dominates
    restartToServingMs: { median: median(starts), max: Math.max(...starts) },
    stateRecoveryMs: { median: median(recovers), max: recovers.length ? Math.max(...recovers) : null },
    servingToFirstRoundClosedMs: { median: median(closes), max: closes.length ? Math.max(...closes) : null, samples: closes.length },
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`crash-recovery bench: ${error.message}\n`);
  process.exit(1);
});
