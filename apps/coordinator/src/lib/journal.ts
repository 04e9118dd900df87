import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodePayload, encodePayload } from '@fedsnell/protocol';
import type { ClientUpdate } from '@fedsnell/federation';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { Logger } from './options';
import type { StateWriter } from './state-files';
import { errorMessage } from '@fedsnell/util';

/** What a restarted coordinator needs to reopen a round as it was: its selection and its random draws. */
export interface RoundOpening {
  round: number;
  taskId: string;
  selected: string[];
  seed: number;
  /** numbers the round's generator gave before aggregation (sampling, seed); replay skips as many */
  draws: number;
  startedAt: number;
  /** the strategy's per-round trainer settings (RoundStart.overrides), when it gave any */
  overrides?: Record<string, number>;
}

export interface JournaledUpdate {
  update: ClientUpdate;
  /** a discounted update of an earlier round, already moved into this round's frame */
  stale: boolean;
}

export interface ReplayedRound {
  opening: RoundOpening;
  updates: JournaledUpdate[];
}

// A record: magic, payload length (u32 LE), CRC-32 of the payload (u32 LE), msgpack payload.
const MAGIC = new Uint8Array([0x46, 0x53, 0x4a, 0x31]); // "FSJ1"
const HEADER = 12;
const FILE = /^round-(\d{6,})\.journal$/;

export const journalName = (round: number) => `round-${String(round).padStart(6, '0')}.journal`;

function frame(value: unknown): Uint8Array {
  const payload = encodePayload(value);
  const bytes = new Uint8Array(HEADER + payload.byteLength);
  bytes.set(MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, payload.byteLength, true);
  view.setUint32(8, crc32(payload), true);
  bytes.set(payload, HEADER);
  return bytes;
}

function magicAt(bytes: Uint8Array, at: number): boolean {
  return at + MAGIC.length <= bytes.length && MAGIC.every((b, i) => bytes[at + i] === b);
}

/** Payloads of the well-formed records; a torn or corrupt one is reported and skipped. */
export function unframe(bytes: Uint8Array, onBad: (offset: number, reason: string) => void): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    let reason: string | null = null;
    if (!magicAt(bytes, at)) reason = 'no record header';
    else if (at + HEADER > bytes.length) reason = 'header cut short';
    else {
      const length = view.getUint32(at + 4, true);
      if (at + HEADER + length > bytes.length) reason = `payload of ${length} bytes cut short at ${bytes.length - at - HEADER}`;
      else {
        const payload = bytes.subarray(at + HEADER, at + HEADER + length);
        if (crc32(payload) !== view.getUint32(at + 8, true)) reason = 'checksum mismatch';
        else {
          payloads.push(payload);
          at += HEADER + length;
          continue;
        }
      }
    }
    onBad(at, reason);
    // resynchronise at the next record header: one bad record does not hide the ones after it
    let next = at + 1;
    while (next < bytes.length && !magicAt(bytes, next)) next++;
    at = next;
  }
  return payloads;
}

interface WireUpdate {
  kind: 'update';
  round: number;
  clientId: string;
  numExamples: number;
  metrics?: Record<string, number>;
  stale: boolean;
  tensors: { name: string; shape: number[]; data: Float32Array }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

const isNumberRecord = (v: unknown): v is Record<string, number> => isRecord(v) && Object.values(v).every((n) => typeof n === 'number');

function readOpening(v: Record<string, unknown>): RoundOpening | null {
  const { round, taskId, selected, seed, draws, startedAt, overrides } = v;
  if (typeof round !== 'number' || typeof taskId !== 'string' || !isStrings(selected) || typeof seed !== 'number' || typeof draws !== 'number' || typeof startedAt !== 'number') return null;
  if (overrides !== undefined && !isNumberRecord(overrides)) return null;
  return { round, taskId, selected, seed, draws, startedAt, ...(overrides ? { overrides } : {}) };
}

function readUpdate(v: Record<string, unknown>): (JournaledUpdate & { round: number }) | null {
  const { round, clientId, numExamples, metrics, stale, tensors } = v;
  if (typeof round !== 'number' || typeof clientId !== 'string' || typeof numExamples !== 'number' || typeof stale !== 'boolean' || !Array.isArray(tensors)) return null;
  const state: TensorMap = new Map();
  for (const t of tensors) {
    if (!isRecord(t) || typeof t['name'] !== 'string' || !Array.isArray(t['shape']) || !(t['data'] instanceof Float32Array)) return null;
    state.set(t['name'], { shape: t['shape'].map(Number), data: t['data'] });
  }
  const numbers = isRecord(metrics) ? Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number') : [];
  const update: ClientUpdate = { clientId, numExamples, state, ...(isRecord(metrics) ? { metrics: Object.fromEntries(numbers) } : {}) };
  return { round, update, stale };
}

/**
 * The write-ahead journal of open rounds: `stateDir/wal/round-NNNNNN.journal` holds the round's opening
 * (selection, seed) and every update accepted in it, each appended and fsynced before the client
 * is acknowledged. A restarted coordinator reopens the round from it, so an acknowledged client never
 * resends; the file is removed once the checkpoint that records the round is written.
 */
export class UpdateJournal {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly dir: string;

  constructor(
    stateDir: string,
    private readonly writer: StateWriter,
    private readonly logger: Logger,
  ) {
    this.dir = join(stateDir, 'wal');
  }

  private path(round: number): string {
    return join(this.dir, journalName(round));
  }

  /** Appends run one after another: two large records must never interleave in the file. */
  private serial<T>(write: () => Promise<T>): Promise<T> {
    const next = this.tail.then(write, write);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Starts the round's journal (atomically: it never exists without its opening). */
  begin(opening: RoundOpening): Promise<void> {
    return this.serial(async () => {
      await mkdir(this.dir, { recursive: true });
      await this.writer.writeAtomic(this.path(opening.round), frame({ kind: 'open', ...opening }));
    });
  }

  append(round: number, entry: JournaledUpdate): Promise<void> {
    const { update, stale } = entry;
    const record: WireUpdate = {
      kind: 'update',
      round,
      clientId: update.clientId,
      numExamples: update.numExamples,
      ...(update.metrics ? { metrics: update.metrics } : {}),
      stale,
      tensors: [...update.state].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data })),
    };
    return this.serial(() => this.writer.append(this.path(round), frame(record)));
  }

  async rounds(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.flatMap((name) => {
      const match = FILE.exec(name);
      return match ? [Number(match[1])] : [];
    }).sort((a, b) => a - b);
  }

  /** The round as journaled, or null when there is no readable opening. Bad records: one line each. */
  async replay(round: number): Promise<ReplayedRound | null> {
    const file = journalName(round);
    const bytes = await readFile(this.path(round)).catch(() => null);
    if (!bytes) return null;
    const bad = (offset: number | null, reason: string) => this.logger.warn('skipping a torn or corrupt journal record', { file, offset, reason });
    let opening: RoundOpening | null = null;
    const updates = new Map<string, JournaledUpdate>();
    for (const payload of unframe(bytes, bad)) {
      let value: unknown;
      try {
        value = decodePayload(payload);
      } catch (error) {
        bad(null, `undecodable record: ${errorMessage(error)}`);
        continue;
      }
      if (!isRecord(value)) continue;
      if (value['kind'] === 'open') opening = readOpening(value);
      else if (value['kind'] === 'update') {
        const entry = readUpdate(value);
        if (entry && entry.round === round) updates.set(entry.update.clientId, { update: entry.update, stale: entry.stale });
        else bad(null, 'update record of the wrong shape or round');
      }
    }
    if (!opening || opening.round !== round) {
      this.logger.warn('ignoring a journal without a readable opening', { file });
      return null;
    }
    return { opening, updates: [...updates.values()] };
  }

  /** Removes the round's journal (the round is recorded in a checkpoint, or cannot be reopened). */
  discard(round: number): Promise<void> {
    return this.serial(() => this.writer.remove(this.path(round)));
  }
}
