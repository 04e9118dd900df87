import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import type { RoundEnd } from '@fedsnell/protocol';

export interface RoundRecord {
  round: number;
  status: RoundEnd['status'] | 'open';
  selected: string[];
  updates: number;
  /** how many of `updates` were discounted updates of earlier rounds */
  staleUpdates?: number;
  rejected: number;
  /** selected clients that reported they could not train the round (round:failed) */
  failed?: number;
  /** why the round did not aggregate, when the server refused or failed (e.g. a non-finite aggregate) */
  reason?: string;
  startedAt: number;
  closedAt: number | null;
  metrics: Record<string, number>;
  gaps?: Record<string, number>;
}

/** Closed rounds, persisted as one JSON file (rewritten atomically) so a restart keeps the history. */
export class HistoryStore {
  private records: RoundRecord[] = [];
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'rounds.json');
  }

  async load(): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch(() => null);
    if (text === null) return;
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error(`${this.path} must hold a JSON array of rounds but got ${typeof parsed}`);
    this.records = parsed as RoundRecord[];
  }

  list(): readonly RoundRecord[] {
    return this.records;
  }

  /** Keeps only rounds before `round` (a resumed checkpoint is older than a lost history tail). */
  truncate(round: number): void {
    this.records = this.records.filter((r) => r.round < round);
  }

  async append(record: RoundRecord): Promise<void> {
    this.records = [...this.records.filter((r) => r.round !== record.round), record];
    await writeFileAtomic(this.path, new TextEncoder().encode(JSON.stringify(this.records, null, 1)));
  }
}
