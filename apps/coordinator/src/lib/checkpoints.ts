import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorMap } from '@fedsnell/tensor-io';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import type { Logger } from './options';

/** What the coordinator needs besides the tensors to resume at a round. */
export interface CheckpointInfo {
  round: number;
  taskId: string;
  createdAt: number;
  strategyState?: unknown;
}

export interface Checkpoint {
  info: CheckpointInfo;
  state: TensorMap;
}

const FILE = /^round-(\d{6,})\.safetensors$/;
const INFO_KEY = 'fedsnell.checkpoint';

export const checkpointName = (round: number) => `round-${String(round).padStart(6, '0')}.safetensors`;

/**
 * One `.safetensors` per round in `dir`: the global state the clients of that round start from,
 * written atomically (temp file + rename) before the round is announced. Each file is also a
 * valid fedsnell adapter: `__metadata__.fedsnell` comes from `adapterMetadata`.
 */
export class CheckpointStore {
  constructor(
    private readonly dir: string,
    private readonly adapterMetadata: (round: number, state: TensorMap) => Record<string, unknown>,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async save(state: TensorMap, info: CheckpointInfo): Promise<void> {
    const metadata = {
      fedsnell: JSON.stringify(this.adapterMetadata(info.round, state)),
      [INFO_KEY]: JSON.stringify(info),
    };
    await writeFileAtomic(join(this.dir, checkpointName(info.round)), serializeSafetensors(state, { metadata }));
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

  /** The newest readable checkpoint; unreadable ones are logged and skipped. */
  async latest(): Promise<Checkpoint | null> {
    const rounds = await this.rounds();
    for (const round of rounds.reverse()) {
      const bytes = await this.bytes(round);
      try {
        if (!bytes) throw new Error('the file vanished');
        const parsed = parseSafetensors(bytes);
        const info = JSON.parse(parsed.metadata[INFO_KEY] ?? 'null') as CheckpointInfo | null;
        if (!info || info.round !== round || typeof info.taskId !== 'string') throw new Error(`metadata ${INFO_KEY} is missing or names another round`);
        const state: TensorMap = new Map();
        for (const [name, tensor] of parsed.tensors) state.set(name, { shape: tensor.shape, data: tensor.data });
        return { info, state };
      } catch (error) {
        this.logger.warn('skipping unreadable checkpoint', { file: checkpointName(round), reason: (error as Error).message });
      }
    }
    return null;
  }
}
