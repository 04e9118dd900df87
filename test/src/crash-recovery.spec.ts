import { runCrashScenario, type CrashReport } from './testing/crash-harness';

// 10 SIGKILLs of a coordinator child (each named crash point once, then random points and times) with
// three clients running; one last child finishes the task on the same state folder.
const ROUNDS = 30;
const CLIENTS = 3;

describe('coordinator killed with SIGKILL again and again', () => {
  let report: CrashReport;

  beforeAll(async () => {
    report = await runCrashScenario({ kills: 10, rounds: ROUNDS, clients: CLIENTS, seed: 11 });
  }, 240_000);

  it('was killed at every named point', () => {
    const named = report.kills.map((k) => /^after:([a-z-]+)/.exec(k.how)?.[1]).filter(Boolean);
    expect(new Set(named).size).toBe(7);
  });

  it('records every round once, in order', () => {
    expect(report.history.map((r) => r.round)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i));
  });

  it('aggregates every update any client was told was accepted', () => {
    const lost = [...report.acked].filter(([round, ids]) => {
      const record = report.history.find((r) => r.round === round);
      // more is possible: an update journaled just before a kill counts even if its ack was lost
      return record?.status !== 'aggregated' || record.updates < ids.size;
    });
    expect(lost).toEqual([]);
  });

  it('aggregates each round exactly once with every client', () => {
    // clients add 1, 2, 3 each round: FedAvg moves the state by 2 per round it aggregates
    expect([report.history.every((r) => r.status === 'aggregated' && r.updates === CLIENTS), report.finalBias]).toEqual([true, [2 * ROUNDS, 2 * ROUNDS]]);
  });

  it('leaves no temp file and no journal', () => {
    expect(report.leftovers).toEqual([]);
  });
});
