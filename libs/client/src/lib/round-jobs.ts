import type { RoundStart, Update } from '@fedsnell/protocol';

/** training → ready (update built) → sending → done (acked, refused, skipped or failed). */
export type JobStatus = 'training' | 'ready' | 'sending' | 'done';

export interface RoundJob {
  taskId: string;
  round: number;
  deadline: number;
  status: JobStatus;
  update?: Update;
  controller: AbortController;
  finished: Promise<void>;
}

/** What to do with a `round:start` (PROTOCOL.md §6: a round is announced again only while the server has no accepted update from us). */
export type StartDecision =
  | { kind: 'stale'; lastRound: number }
  | { kind: 'resend'; job: RoundJob }
  | { kind: 'known'; job: RoundJob }
  | { kind: 'new'; job: RoundJob };

/**
 * The rounds a client is working on, by task and round. A newer round aborts older ones still
 * training; finished ones are forgotten once a newer round starts.
 */
export class RoundJobs {
  private readonly jobs = new Map<string, RoundJob>();
  /** the last round seen starting in the current task */
  lastRound: number | undefined;

  decide(start: RoundStart): StartDecision {
    if (this.lastRound !== undefined && start.round < this.lastRound) return { kind: 'stale', lastRound: this.lastRound };
    this.lastRound = start.round;
    for (const [key, job] of this.jobs) {
      if (job.round >= start.round && job.taskId === start.taskId) continue;
      // an older round is closed: stop its training; forget it once it has finished
      if (job.status !== 'done') job.controller.abort(new Error(`round ${start.round} started`));
      else this.jobs.delete(key);
    }
    const existing = this.jobs.get(keyOf(start.taskId, start.round));
    if (existing) return existing.status === 'ready' ? { kind: 'resend', job: existing } : { kind: 'known', job: existing };
    const job: RoundJob = { taskId: start.taskId, round: start.round, deadline: start.deadline, status: 'training', controller: new AbortController(), finished: Promise.resolve() };
    this.jobs.set(keyOf(start.taskId, start.round), job);
    return { kind: 'new', job };
  }

  /** Aborts every job not done (a new task, a stop). */
  abortAll(reason: string): void {
    for (const job of this.jobs.values()) if (job.status !== 'done') job.controller.abort(new Error(reason));
  }

  /** Jobs not yet done. */
  open(): RoundJob[] {
    return [...this.jobs.values()].filter((j) => j.status !== 'done');
  }

  /** Settles once every job's work has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => j.finished));
  }

  /** A new task starts from no round. */
  resetRounds(): void {
    this.lastRound = undefined;
  }
}

function keyOf(taskId: string, round: number): string {
  return `${taskId}#${round}`;
}
