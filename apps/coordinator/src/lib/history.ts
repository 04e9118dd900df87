import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoundEnd } from '@fedsnell/protocol';
import type { Logger } from './options';
import { nodeStateWriter, type StateWriter } from './state-files';
import { errorMessage } from '@fedsnell/util';

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

const encode = (records: readonly RoundRecord[]) => new TextEncoder().encode(JSON.stringify(records, null, 1));

/**
 * Closed rounds as `rounds.json` (rewritten atomically), the list `/api/rounds` serves. The record of
 * each round is also in the checkpoint the round produced, which is written first; `restore` rebuilds
 * what a crash between the two writes left out. The list in memory changes only after the file did,
 * so nothing is shown that is not on disk.
 */
export class HistoryStore {
  private records: RoundRecord[] = [];
  private readonly path: string;

  constructor(
    dir: string,
    private readonly writer: StateWriter = nodeStateWriter,
  ) {
    this.path = join(dir, 'rounds.json');
  }

  /** Reads rounds.json; an unreadable one is logged and rebuilt from the checkpoints by `restore`. */
  async load(logger?: Logger): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch(() => null);
    if (text === null) return;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new Error(`it must hold a JSON array of rounds but holds ${typeof parsed}`);
      this.records = parsed as RoundRecord[];
    } catch (error) {
      if (!logger) throw new Error(`${this.path}: ${errorMessage(error)}`);
      logger.warn('ignoring unreadable rounds.json; rebuilding it from the checkpoints', { reason: errorMessage(error) });
    }
  }

  list(): readonly RoundRecord[] {
    return this.records;
  }

  /**
   * Keeps the rounds before `round` (the round a resumed checkpoint starts) and adds the records
   * held by the checkpoints that rounds.json lacks; rewrites the file when that changed anything.
   */
  async restore(round: number, fromCheckpoints: readonly RoundRecord[]): Promise<void> {
    const byRound = new Map(this.records.filter((r) => r.round < round).map((r) => [r.round, r]));
    for (const r of fromCheckpoints) if (r.round < round) byRound.set(r.round, r);
    const restored = [...byRound.values()].sort((a, b) => a.round - b.round);
    if (JSON.stringify(restored) === JSON.stringify(this.records)) return;
    await this.writer.writeAtomic(this.path, encode(restored));
    this.records = restored;
  }

  async append(record: RoundRecord): Promise<void> {
    const next = [...this.records.filter((r) => r.round !== record.round), record];
    await this.writer.writeAtomic(this.path, encode(next), 'history');
    this.records = next;
  }
}
