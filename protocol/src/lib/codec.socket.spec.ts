import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createParser, decodePayload, encodePayload } from './codec';
import { ChunkAssembler, sendTransfer, splitTransfer } from './chunking';
import { DEFAULT_LIMITS } from './limits';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events';
import type { ProtocolError } from './errors';
import { decodeTensor, encodeTensor } from './tensor';
import type { Ack, Update } from './schemas';
import { parseUpdate } from './schemas';
import { validUpdate } from './test-fixtures';

type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type TypedClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

describe('codec over socket.io', () => {
  let http: HttpServer;
  let server: TypedServer;
  let client: TypedClient;
  let serverSocket: ServerSocket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
  const received: Update[] = [];
  const frameBytes: number[] = [];
  const malformed: ProtocolError[] = [];

  beforeEach(async () => {
    received.length = frameBytes.length = malformed.length = 0;
    http = createServer();
    server = new Server(http, { parser: createParser(), transports: ['websocket'] });
    server.on('connection', (socket) => {
      serverSocket = socket;
      socket.conn.on('packet', (p: { type: string; data?: unknown }) => {
        if (p.type === 'message' && p.data instanceof Uint8Array) frameBytes.push(p.data.byteLength);
      });
      const onUpdate = (update: unknown): Ack => {
        const parsed = parseUpdate(update);
        if (!parsed.ok) return { ok: false, error: parsed.error };
        received.push(parsed.value);
        return { ok: true };
      };
      socket.on('update', (update, ack) => ack(onUpdate(update)));
      const assembler = new ChunkAssembler({
        maxTotalBytes: DEFAULT_LIMITS.maxUpdateBytes,
        maxChunkBytes: DEFAULT_LIMITS.chunkBytes,
        maxConcurrentTransfers: 1,
        timeoutMs: 5000,
      });
      socket.on('chunk', async (chunk, ack) => {
        const result = await assembler.add(chunk);
        if (!result.ok) return ack({ ok: false, error: result.error });
        ack(result.done ? onUpdate(decodePayload(result.bytes)) : { ok: true });
      });
      socket.on('malformed', (report) => malformed.push(report));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    client = connect(`http://127.0.0.1:${port}`, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      client.on('connect', resolve);
      client.on('connect_error', reject);
    });
  });

  afterEach(async () => {
    client.disconnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers tensors as typed arrays', async () => {
    const ack = await client.timeout(5000).emitWithAck('update', validUpdate());
    expect(ack).toEqual({ ok: true });
    expect(received[0].tensors[0].data).toBeInstanceOf(Uint8Array);
    expect(Array.from(decodeTensor(received[0].tensors[0]))).toEqual([1, 2, 3, 4]);
  });

  it('sends only the bytes of a view', async () => {
    const big = new Float32Array(10_000);
    big.set([5, 6], 4000);
    const update = { ...validUpdate(), tensors: [encodeTensor('w', [2], big.subarray(4000, 4002))] };
    await client.timeout(5000).emitWithAck('update', update);
    expect(frameBytes[0]).toBeLessThan(400);
    expect(Array.from(decodeTensor(received[0].tensors[0]))).toEqual([5, 6]);
  });

  it('carries a Float32Array inside a payload', async () => {
    const got = new Promise<unknown>((resolve) => client.on('error', (e) => resolve(e)));
    // an ad-hoc typed array field outside the event maps, to prove moreTypes survives the whole stack
    const untyped: ServerSocket = serverSocket as ServerSocket;
    untyped.emit('error', { code: 'INTERNAL', message: 'x', extra: new Float32Array([0.25]) });
    const e = (await got) as { extra: Float32Array };
    expect(e.extra).toBeInstanceOf(Float32Array);
    expect(Array.from(e.extra)).toEqual([0.25]);
  });

  it('rejects a malformed frame and keeps the connection', async () => {
    client.io.engine.write(Buffer.from([0xc1, 0x00]));
    const ack = await client.timeout(5000).emitWithAck('update', validUpdate());
    expect(malformed.map((m) => m.code)).toEqual(['MALFORMED']);
    expect(ack).toEqual({ ok: true });
    expect(client.connected).toBe(true);
  });

  it('carries a 3 MB update in chunks under maxHttpBufferSize', async () => {
    const values = Float32Array.from({ length: 750_000 }, (_, i) => i);
    const update = { ...validUpdate(), tensors: [encodeTensor('w', [750_000], values)] };
    const chunks = await splitTransfer('update', encodePayload(update), { chunkBytes: DEFAULT_LIMITS.chunkBytes });
    const ack = await sendTransfer(chunks, (chunk) => client.timeout(5000).emitWithAck('chunk', chunk));
    expect([ack, chunks.length]).toEqual([{ ok: true }, 4]);
    expect(decodeTensor(received[0].tensors[0])[749_999]).toBe(749_999);
  });

  it('answers an invalid update with a MALFORMED ack', async () => {
    const ack = await client.timeout(5000).emitWithAck('update', { ...validUpdate(), numExamples: -3 });
    expect(ack).toEqual({ ok: false, error: { code: 'MALFORMED', message: 'update.numExamples must be a positive integer but got -3' } });
  });
});
