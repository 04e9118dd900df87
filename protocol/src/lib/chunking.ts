import { sha256Hex } from '@fedsnell/util';
import { ErrorCode, type ProtocolError } from './errors';
import type { Ack, Chunk, TransferEvent } from './schemas';


export function newTransferId(): string {
  const random = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Cuts `payload` (the msgpack bytes of one event's payload) into chunks of at most `chunkBytes`. */
export async function splitTransfer(
  event: TransferEvent,
  payload: Uint8Array,
  options: { chunkBytes: number; transferId?: string },
): Promise<Chunk[]> {
  const { chunkBytes } = options;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new Error(`chunkBytes passed to splitTransfer() must be a positive integer but got ${chunkBytes}`);
  }
  if (payload.byteLength === 0) throw new Error('payload passed to splitTransfer() must not be empty but got 0 bytes');
  const transferId = options.transferId ?? newTransferId();
  const sha256 = await sha256Hex(payload);
  const total = Math.ceil(payload.byteLength / chunkBytes);
  const chunks: Chunk[] = [];
  for (let index = 0; index < total; index++) {
    // slice, not subarray: each chunk must carry only its own bytes
    const bytes = payload.slice(index * chunkBytes, (index + 1) * chunkBytes);
    chunks.push({ transferId, event, index, total, totalBytes: payload.byteLength, sha256, bytes });
  }
  return chunks;
}

/** Sends chunks in order, each awaiting its ack; stops at the first refusal. The last ack is the event's. */
export async function sendTransfer(chunks: readonly Chunk[], send: (chunk: Chunk) => Promise<Ack>): Promise<Ack> {
  let ack: Ack = { ok: false, error: { code: ErrorCode.TRANSFER, message: 'sendTransfer() was given no chunks' } };
  for (const chunk of chunks) {
    ack = await send(chunk);
    if (!ack.ok) return ack;
  }
  return ack;
}

export interface AssemblerOptions {
  /** Largest reassembled payload. */
  maxTotalBytes: number;
  /** Largest single chunk. */
  maxChunkBytes: number;
  /** Transfers in flight at once. */
  maxConcurrentTransfers: number;
  /** A transfer is dropped when its next chunk takes longer than this. */
  timeoutMs: number;
  /** Called when a transfer is dropped for silence. */
  onTimeout?: (transferId: string, error: ProtocolError) => void;
  /** Most payload bytes held at once by this assembler, over all its transfers (default maxTotalBytes). */
  maxBufferedBytes?: number;
  /** A budget shared by many assemblers (every connection of a server); a chunk that does not fit is refused. */
  budget?: ByteBudget;
}

/**
 * Bytes held by chunked transfers across many connections. `take` reserves or refuses; `give`
 * returns what a dropped or finished transfer held.
 */
export class ByteBudget {
  private usedBytes = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new Error(`maxBytes passed to ByteBudget must be a positive integer but got ${maxBytes}`);
  }

  get used(): number {
    return this.usedBytes;
  }

  take(bytes: number): boolean {
    if (this.usedBytes + bytes > this.maxBytes) return false;
    this.usedBytes += bytes;
    return true;
  }

  give(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}

export type AssembleResult =
  | { ok: true; done: false; received: number; total: number }
  | { ok: true; done: true; event: TransferEvent; bytes: Uint8Array }
  | { ok: false; error: ProtocolError };

interface Transfer {
  first: Chunk;
  parts: (Uint8Array | undefined)[];
  received: number;
  receivedBytes: number;
  timer: ReturnType<typeof setTimeout>;
}

const REMEMBERED_FAILURES = 64;

/** A transfer may be cut finer than `chunkBytes`, up to this many times as many chunks. */
export const CHUNK_COUNT_SLACK = 64;

/**
 * Reassembles chunked transfers for one connection, in any order, within bounds. Every failure
 * drops the transfer and says why; later chunks of a dropped transfer are refused, not restarted.
 */
export class ChunkAssembler {
  private readonly transfers = new Map<string, Transfer>();
  private readonly failed: string[] = [];

  constructor(private readonly options: AssemblerOptions) {}

  get activeTransfers(): number {
    return this.transfers.size;
  }

  /** Payload bytes held now by unfinished transfers. */
  get bufferedBytes(): number {
    let sum = 0;
    for (const t of this.transfers.values()) sum += t.receivedBytes;
    return sum;
  }

  async add(chunk: Chunk): Promise<AssembleResult> {
    const { maxTotalBytes, maxChunkBytes, maxConcurrentTransfers } = this.options;
    const id = chunk.transferId;
    if (this.failed.includes(id)) return this.fail(id, ErrorCode.TRANSFER, `transfer ${id} was already aborted; start a new transfer`);
    if (chunk.bytes.byteLength > maxChunkBytes) {
      return this.fail(id, ErrorCode.PAYLOAD_TOO_LARGE, `chunk ${chunk.index} of transfer ${id} must be at most ${maxChunkBytes} bytes but got ${chunk.bytes.byteLength}`);
    }
    if (chunk.totalBytes > maxTotalBytes) {
      return this.fail(id, ErrorCode.PAYLOAD_TOO_LARGE, `transfer ${id} must be at most ${maxTotalBytes} bytes but announced ${chunk.totalBytes}`);
    }
    // tiny chunks must not multiply per-chunk overhead: at most CHUNK_COUNT_SLACK × the full-size count
    const mostChunks = CHUNK_COUNT_SLACK * Math.ceil(chunk.totalBytes / maxChunkBytes);
    if (chunk.total > mostChunks) {
      return this.fail(id, ErrorCode.TRANSFER, `transfer ${id} of ${chunk.totalBytes} bytes may have at most ${mostChunks} chunks (${CHUNK_COUNT_SLACK} × what ${maxChunkBytes}-byte chunks need) but announced ${chunk.total}`);
    }
    let transfer = this.transfers.get(id);
    if (!transfer) {
      if (this.transfers.size >= maxConcurrentTransfers) {
        return this.fail(id, ErrorCode.TOO_MANY_TRANSFERS, `at most ${maxConcurrentTransfers} transfers may be in flight but transfer ${id} would be number ${this.transfers.size + 1}`);
      }
      transfer = { first: chunk, parts: new Array(chunk.total), received: 0, receivedBytes: 0, timer: this.startTimer(id) };
      this.transfers.set(id, transfer);
    } else {
      const f = transfer.first;
      if (f.event !== chunk.event || f.total !== chunk.total || f.totalBytes !== chunk.totalBytes || f.sha256 !== chunk.sha256) {
        return this.fail(id, ErrorCode.TRANSFER, `chunk ${chunk.index} of transfer ${id} must repeat the first chunk's event, total, totalBytes and sha256 but differs`);
      }
      clearTimeout(transfer.timer);
      transfer.timer = this.startTimer(id);
    }
    if (transfer.parts[chunk.index]) {
      return this.fail(id, ErrorCode.TRANSFER, `chunk ${chunk.index} of transfer ${id} arrived twice`);
    }
    if (transfer.receivedBytes + chunk.bytes.byteLength > chunk.totalBytes) {
      return this.fail(id, ErrorCode.PAYLOAD_TOO_LARGE, `transfer ${id} must total ${chunk.totalBytes} bytes but its chunks exceed that`);
    }
    const maxBuffered = this.options.maxBufferedBytes ?? maxTotalBytes;
    if (this.bufferedBytes + chunk.bytes.byteLength > maxBuffered) {
      return this.fail(id, ErrorCode.TOO_MANY_TRANSFERS, `transfers on this connection may hold at most ${maxBuffered} bytes at once; transfer ${id} dropped`);
    }
    if (this.options.budget && !this.options.budget.take(chunk.bytes.byteLength)) {
      return this.fail(id, ErrorCode.TOO_MANY_TRANSFERS, `the server holds its most chunked bytes (${this.options.budget.maxBytes}) now; transfer ${id} dropped, retry later`);
    }
    transfer.parts[chunk.index] = chunk.bytes;
    transfer.received++;
    transfer.receivedBytes += chunk.bytes.byteLength;
    if (transfer.received < chunk.total) return { ok: true, done: false, received: transfer.received, total: chunk.total };
    return this.complete(id, transfer);
  }

  /** Drops every transfer and its timer (on disconnect). */
  dispose(): void {
    for (const id of [...this.transfers.keys()]) this.drop(id);
  }

  private async complete(id: string, transfer: Transfer): Promise<AssembleResult> {
    const { totalBytes, sha256, event } = transfer.first;
    if (transfer.receivedBytes !== totalBytes) {
      return this.fail(id, ErrorCode.TRANSFER, `transfer ${id} must total ${totalBytes} bytes but its chunks hold ${transfer.receivedBytes}`);
    }
    const bytes = new Uint8Array(totalBytes);
    let offset = 0;
    for (const part of transfer.parts) {
      bytes.set(part as Uint8Array, offset);
      offset += (part as Uint8Array).byteLength;
    }
    this.drop(id);
    const actual = await sha256Hex(bytes);
    if (actual !== sha256) {
      return this.fail(id, ErrorCode.HASH_MISMATCH, `transfer ${id} must hash to sha256 ${sha256} but got ${actual}`);
    }
    return { ok: true, done: true, event, bytes };
  }

  private startTimer(id: string): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const transfer = this.transfers.get(id);
      if (!transfer) return;
      const message = `transfer ${id} timed out after ${this.options.timeoutMs} ms with ${transfer.received} of ${transfer.first.total} chunks`;
      const { error } = this.fail(id, ErrorCode.TRANSFER_TIMEOUT, message);
      this.options.onTimeout?.(id, error);
    }, this.options.timeoutMs);
    // a pending transfer must not keep a Node process alive
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** Forgets a transfer: its timer, its parts and its share of the budget. */
  private drop(id: string): void {
    const transfer = this.transfers.get(id);
    if (!transfer) return;
    clearTimeout(transfer.timer);
    this.options.budget?.give(transfer.receivedBytes);
    transfer.parts.fill(undefined);
    this.transfers.delete(id);
  }

  private fail(id: string, code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
    this.drop(id);
    if (!this.failed.includes(id)) {
      this.failed.push(id);
      if (this.failed.length > REMEMBERED_FAILURES) this.failed.shift();
    }
    return { ok: false, error: { code, message } };
  }
}
