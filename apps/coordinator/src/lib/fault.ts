/**
 * Named points of the round-closing path where a crash test can kill the coordinator with SIGKILL,
 * so that "killed between the checkpoint rename and the history write" is reproducible instead of a
 * matter of timing. Off unless `FEDSNELL_FAULT=after:<point>[:<n>]` is set: the n-th time (default 1)
 * the process passes `<point>`, it sends itself SIGKILL (no handlers, no flushing, as a power cut).
 */
export const FAULT_POINTS = [
  'round-open', // the round's opening is journaled, round:start not sent yet
  'update-journaled', // an update is on disk, its ack not sent yet
  'aggregated', // aggregated and evaluated, nothing of it written yet
  'checkpoint-temp', // the next checkpoint's temp file is written and synced, not renamed
  'checkpoint-rename', // the next checkpoint (with the round's record) is in place, rounds.json not rewritten
  'history-temp', // rounds.json's temp file is written, not renamed
  'history-rename', // rounds.json is rewritten, round:end not sent and the journal not removed
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

interface Armed {
  point: FaultPoint;
  hit: number;
}

function parseFault(spec: string | undefined): Armed | null {
  if (!spec) return null;
  const match = /^after:([a-z-]+)(?::(\d+))?$/.exec(spec);
  const point = FAULT_POINTS.find((p) => p === match?.[1]);
  if (!match || !point) {
    throw new Error(`FEDSNELL_FAULT must be after:<point>[:<n>] with a point among ${FAULT_POINTS.join(', ')} but got ${JSON.stringify(spec)}`);
  }
  return { point, hit: Math.max(1, Number(match[2] ?? 1)) };
}

let armed: Armed | null | undefined;
const seen = new Map<FaultPoint, number>();

/** Reads FEDSNELL_FAULT; a malformed one is refused here, at start, rather than at the first point. */
export function armFaults(): void {
  armed ??= parseFault(process.env['FEDSNELL_FAULT']);
}

/** Marks that the process passed `point`; kills it there when FEDSNELL_FAULT says so. */
export function faultPoint(point: FaultPoint): void {
  armFaults();
  if (!armed || armed.point !== point) return;
  const count = (seen.get(point) ?? 0) + 1;
  seen.set(point, count);
  if (count === armed.hit) process.kill(process.pid, 'SIGKILL');
}
