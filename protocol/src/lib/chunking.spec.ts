import { ByteBudget, ChunkAssembler, sendTransfer, splitTransfer, type AssemblerOptions } from './chunking';
import { decodePayload, encodePayload } from './codec';
import { parseUpdate, type Ack, type Chunk } from './schemas';
import { validUpdate } from './test-fixtures';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const options = (over: Partial<AssemblerOptions> = {}): AssemblerOptions => ({
  maxTotalBytes: 100,
  maxChunkBytes: 4,
  maxConcurrentTransfers: 2,
  timeoutMs: 1000,
  ...over,
});

async function feed(assembler: ChunkAssembler, chunks: Chunk[]) {
  const results = [];
  for (const chunk of chunks) results.push(await assembler.add(chunk));
  return results;
}

describe('splitTransfer', () => {
  it('cuts into chunks of at most chunkBytes', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4, transferId: 't' });
    expect(chunks.map((c) => c.bytes.byteLength)).toEqual([4, 4, 2]);
    expect(chunks.map((c) => [c.index, c.total, c.totalBytes])).toEqual([[0, 3, 10], [1, 3, 10], [2, 3, 10]]);
  });

  it('gives each chunk its own buffer', async () => {
    const [first] = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    expect(first.bytes.buffer.byteLength).toBe(4);
  });

  it('rejects a zero chunk size', async () => {
    await expect(splitTransfer('update', bytes(3), { chunkBytes: 0 })).rejects.toThrow('chunkBytes passed to splitTransfer() must be a positive integer but got 0');
  });
});

describe('ChunkAssembler', () => {
  it('reassembles in order', async () => {
    const assembler = new ChunkAssembler(options());
    const results = await feed(assembler, await splitTransfer('update', bytes(10), { chunkBytes: 4 }));
    expect(results.map((r) => r.ok && r.done)).toEqual([false, false, true]);
    const last = results[2];
    expect(last.ok && last.done && Array.from(last.bytes)).toEqual(Array.from(bytes(10)));
    expect(assembler.activeTransfers).toBe(0);
  });

  it('reassembles out of order', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const results = await feed(new ChunkAssembler(options()), [chunks[2], chunks[0], chunks[1]]);
    const last = results[2];
    expect(last.ok && last.done && Array.from(last.bytes)).toEqual(Array.from(bytes(10)));
  });

  it('carries an update payload', async () => {
    const chunks = await splitTransfer('update', encodePayload(validUpdate()), { chunkBytes: 16 });
    const results = await feed(new ChunkAssembler(options({ maxChunkBytes: 16, maxTotalBytes: 1000 })), chunks);
    const last = results[results.length - 1];
    if (!last.ok || !last.done) throw new Error('transfer did not complete');
    expect(parseUpdate(decodePayload(last.bytes)).ok).toBe(true);
  });

  it('refuses a hash mismatch', async () => {
    const chunks = await splitTransfer('update', bytes(8), { chunkBytes: 4 });
    chunks[1] = { ...chunks[1], bytes: new Uint8Array([9, 9, 9, 9]) };
    const [, last] = await feed(new ChunkAssembler(options()), chunks);
    expect(!last.ok && last.error.code).toBe('HASH_MISMATCH');
  });

  it('refuses an oversize announcement', async () => {
    const [first] = await splitTransfer('update', bytes(101), { chunkBytes: 4 });
    const result = await new ChunkAssembler(options()).add(first);
    expect(!result.ok && result.error.message).toMatch(/must be at most 100 bytes but announced 101$/);
  });

  it('refuses an oversize chunk', async () => {
    const [first] = await splitTransfer('update', bytes(10), { chunkBytes: 5 });
    const result = await new ChunkAssembler(options()).add(first);
    expect(!result.ok && result.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses chunks that exceed the announced total', async () => {
    const chunks = await splitTransfer('update', bytes(8), { chunkBytes: 4 });
    const liar = chunks.map((c) => ({ ...c, totalBytes: 6 }));
    const [, second] = await feed(new ChunkAssembler(options()), liar);
    expect(!second.ok && second.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a duplicate chunk', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const [, second] = await feed(new ChunkAssembler(options()), [chunks[0], chunks[0]]);
    expect(!second.ok && second.error.message).toMatch(/chunk 0 of transfer .* arrived twice/);
  });

  it('refuses chunks whose header changes', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const [, second] = await feed(new ChunkAssembler(options()), [chunks[0], { ...chunks[1], event: 'round:start' }]);
    expect(!second.ok && second.error.code).toBe('TRANSFER');
  });

  it('limits concurrent transfers', async () => {
    const firsts = await Promise.all([1, 2, 3].map(async () => (await splitTransfer('update', bytes(10), { chunkBytes: 4 }))[0]));
    const results = await feed(new ChunkAssembler(options()), firsts);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'TOO_MANY_TRANSFERS']);
  });

  it('refuses chunks of an aborted transfer', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const assembler = new ChunkAssembler(options());
    await feed(assembler, [chunks[0], chunks[0]]);
    const result = await assembler.add(chunks[1]);
    expect(!result.ok && result.error.message).toMatch(/was already aborted/);
  });

  it('refuses a transfer cut into far more chunks than full-size chunks need', async () => {
    // 1-byte chunks toward a large declared payload: each would cost an object per byte
    const chunks = await splitTransfer('update', bytes(200), { chunkBytes: 1 });
    const result = await new ChunkAssembler(options({ maxTotalBytes: 1000, maxChunkBytes: 100 })).add(chunks[0]);
    expect(!result.ok && result.error.message).toMatch(/may have at most 128 chunks \(64 × what 100-byte chunks need\) but announced 200$/);
  });

  it('accepts a transfer cut finer than chunkBytes within the slack', async () => {
    const chunks = await splitTransfer('update', bytes(200), { chunkBytes: 2 });
    const results = await feed(new ChunkAssembler(options({ maxTotalBytes: 1000, maxChunkBytes: 100 })), chunks);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('caps the bytes one connection holds over all its transfers', async () => {
    const assembler = new ChunkAssembler(options({ maxBufferedBytes: 10 }));
    const a = await splitTransfer('update', bytes(12), { chunkBytes: 4 });
    const b = await splitTransfer('update', bytes(12), { chunkBytes: 4 });
    const results = await feed(assembler, [a[0], a[1], b[0]]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'TOO_MANY_TRANSFERS']);
    expect(assembler.bufferedBytes).toBe(8);
  });

  it('shares one budget between connections and gives it back on completion and disposal', async () => {
    const budget = new ByteBudget(10);
    const first = new ChunkAssembler(options({ budget }));
    const second = new ChunkAssembler(options({ budget }));
    const a = await splitTransfer('update', bytes(12), { chunkBytes: 4 });
    const b = await splitTransfer('update', bytes(8), { chunkBytes: 4 });
    await feed(first, [a[0], a[1]]);
    expect(budget.used).toBe(8);
    const refused = await second.add(b[0]);
    expect(!refused.ok && refused.error.code).toBe('TOO_MANY_TRANSFERS');
    first.dispose();
    expect([budget.used, first.bufferedBytes]).toEqual([0, 0]);
    const results = await feed(second, (await splitTransfer('update', bytes(8), { chunkBytes: 4 })));
    expect(results.map((r) => r.ok && r.done)).toEqual([false, true]);
    expect(budget.used).toBe(0);
  });

  describe('timeouts', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('drops a transfer whose chunk never comes', async () => {
      const timedOut: string[] = [];
      const assembler = new ChunkAssembler(options({ onTimeout: (_id, e) => timedOut.push(e.message) }));
      const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4, transferId: 't' });
      await feed(assembler, [chunks[0], chunks[2]]);
      jest.advanceTimersByTime(1001);
      expect(timedOut).toEqual(['transfer t timed out after 1000 ms with 2 of 3 chunks']);
      expect(assembler.activeTransfers).toBe(0);
    });

    it('restarts the clock on every chunk', async () => {
      const timedOut: string[] = [];
      const assembler = new ChunkAssembler(options({ onTimeout: (id) => timedOut.push(id) }));
      const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
      await assembler.add(chunks[0]);
      jest.advanceTimersByTime(800);
      await assembler.add(chunks[1]);
      jest.advanceTimersByTime(800);
      expect(timedOut).toEqual([]);
    });
  });
});

describe('sendTransfer', () => {
  it('returns the last ack', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const sent: number[] = [];
    const ack = await sendTransfer(chunks, async (c) => {
      sent.push(c.index);
      return { ok: true };
    });
    expect([sent, ack]).toEqual([[0, 1, 2], { ok: true }]);
  });

  it('stops at the first refusal', async () => {
    const chunks = await splitTransfer('update', bytes(10), { chunkBytes: 4 });
    const refusal: Ack = { ok: false, error: { code: 'HASH_MISMATCH', message: 'x' } };
    const sent: number[] = [];
    const ack = await sendTransfer(chunks, async (c) => {
      sent.push(c.index);
      return c.index === 1 ? refusal : { ok: true };
    });
    expect([sent, ack]).toEqual([[0, 1], refusal]);
  });
});
