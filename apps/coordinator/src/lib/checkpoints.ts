import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorMap } from '@fedsnell/tensor-io';
import type { RoundRecord } from './history';
import type { Logger } from './options';
import { nodeStateWriter, type StateWriter } from './state-files';
import { errorMessage } from '@fedsnell/util';

/** What the coordinator needs besides the tensors to resume at a round. */
export interface CheckpointInfo {
  round: number;
  taskId: string;
  createdAt: number;
  strategyState?: unknown;
  /**
   * The record of round `round - 1`, whose result this state is: the checkpoint and its history
   * entry are one file, so a round is closed exactly when this file exists (rounds.json is a copy).
   */
  closed?: RoundRecord;
}

export interface Checkpoint {
  info: CheckpointInfo;
  state: TensorMap;
}

const FILE = /^round-(\d{6,})\.safetensors$/;
const INFO_KEY = 'fedsnell.checkpoint';

export const checkpointName = (round: number) => `round-${String(round).padStart(6, '0')}.safetensors`;

function infoOf(metadata: Record<string, string>, round: number): CheckpointInfo {
  const info = JSON.parse(metadata[INFO_KEY] ?? 'null') as CheckpointInfo | null;
  if (!info || info.round !== round || typeof info.taskId !== 'string') throw new Error(`metadata ${INFO_KEY} is missing or names another round`);
  return info;
}

/**
 * One `.safetensors` per round in `dir`: the global state the clients of that round start from and
 * the record of the round that produced it, written atomically (temp file + rename) before the round
 * is announced. Each file is also a valid fedsnell adapter: `__metadata__.fedsnell` comes from
 * `adapterMetadata`.
 */
export class CheckpointStore {
  constructor(
    private readonly dir: string,
    private readonly adapterMetadata: (round: number, state: TensorMap) => Record<string, unknown>,
    private readonly logger: Logger,
    private readonly writer: StateWriter = nodeStateWriter,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async save(state: TensorMap, info: CheckpointInfo): Promise<void> {
    const metadata = {
      fedsnell: JSON.stringify(this.adapterMetadata(info.round, state)),
      [INFO_KEY]: JSON.stringify(info),
    };
    await this.writer.writeAtomic(join(this.dir, checkpointName(info.round)), serializeSafetensors(state, { metadata }), 'checkpoint');
  }

  async rounds(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.flatMap((name) => {
      const match = FILE.exec(name);
      return match ? [Number(match[1])] : [];
    }).sort((a, b) => a - b);
  }

  async bytes(round: number): Promise<Uint8Array | null> {
    return readFile(join(this.dir, checkpointName(round))).catch(() => null);
  }

  /** The checkpoint's info from its header alone (the tensors are not read). */
  async info(round: number): Promise<CheckpointInfo> {
    const handle = await open(join(this.dir, checkpointName(round)), 'r');
    try {
      const size = Buffer.alloc(8);
      await handle.read(size, 0, 8, 0);
      const length = Number(size.readBigUInt64LE(0));
      if (length <= 0 || length > 100_000_000) throw new Error(`header length ${length} is out of range`);
      const header = Buffer.alloc(length);
      const { bytesRead } = await handle.read(header, 0, length, 8);
      if (bytesRead !== length) throw new Error(`header cut short at ${bytesRead} of ${length} bytes`);
      const parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> };
      return infoOf(parsed.__metadata__ ?? {}, round);
    } finally {
      await handle.close();
    }
  }

  /** Records of the rounds closed by checkpoints up to `through`, oldest first; unreadable ones are logged. */
  async closedRecords(through: number): Promise<RoundRecord[]> {
    const records: RoundRecord[] = [];
    for (const round of (await this.rounds()).filter((r) => r <= through)) {
      try {
        const closed = (await this.info(round)).closed;
        if (closed) records.push(closed);
      } catch (error) {
        this.logger.warn('skipping unreadable checkpoint header', { file: checkpointName(round), reason: errorMessage(error) });
      }
    }
    return records;
  }

  /** The newest readable checkpoint; unreadable ones are logged and skipped. */
  async latest(): Promise<Checkpoint | null> {
    const rounds = await this.rounds();
    for (const round of rounds.reverse()) {
      const bytes = await this.bytes(round);
      try {
        if (!bytes) throw new Error('the file vanished');
        const parsed = parseSafetensors(bytes);
        const info = infoOf(parsed.metadata, round);
        const state: TensorMap = new Map();
        for (const [name, tensor] of parsed.tensors) state.set(name, { shape: tensor.shape, data: tensor.data });
        return { info, state };
      } catch (error) {
        this.logger.warn('skipping unreadable checkpoint', { file: checkpointName(round), reason: errorMessage(error) });
      }
    }
    return null;
  }
}
