import { Packr } from 'msgpackr';
import { PacketDecoder, PacketEncoder, PacketType, createParser, decodePayload, encodePayload, type Packet } from './codec';
import type { ProtocolError } from './errors';

const raw = new Packr({ useRecords: false });

function decodeOne(frame: unknown, maxPacketBytes?: number): { packet?: Packet; errors: ProtocolError[] } {
  const decoder = new PacketDecoder({ maxPacketBytes });
  const errors: ProtocolError[] = [];
  let packet: Packet | undefined;
  decoder.on('decoded', (p) => (packet = p));
  decoder.on('error', (e) => errors.push(e));
  decoder.add(frame);
  return { packet, errors };
}

describe('codec', () => {
  it('round trips an event with typed arrays', () => {
    const packet: Packet = { type: PacketType.EVENT, nsp: '/', id: 4, data: ['update', { f: new Float32Array([1.5, -2]), b: new Uint8Array([7]) }] };
    const [frame] = new PacketEncoder().encode(packet);
    const { packet: back } = decodeOne(frame);
    const payload = (back?.data as unknown[])[1] as { f: Float32Array; b: Uint8Array };
    expect(payload.f).toBeInstanceOf(Float32Array);
    expect(Array.from(payload.f)).toEqual([1.5, -2]);
    expect(Array.from(payload.b)).toEqual([7]);
    expect(back?.id).toBe(4);
  });

  it('encodes only the bytes of a view into a larger buffer', () => {
    const big = new Float32Array(1000);
    big.set([1, 2, 3], 500);
    const [frame] = new PacketEncoder().encode({ type: PacketType.EVENT, nsp: '/', data: ['x', big.subarray(500, 503)] });
    expect(frame.byteLength).toBeLessThan(40);
    const { packet } = decodeOne(frame);
    expect(Array.from((packet?.data as unknown[])[1] as Float32Array)).toEqual([1, 2, 3]);
  });

  it('omits absent fields', () => {
    const [frame] = new PacketEncoder().encode({ type: PacketType.DISCONNECT, nsp: '/', data: undefined, id: undefined });
    expect(raw.unpack(frame)).toEqual({ type: 1, nsp: '/' });
  });

  it('decodes an ArrayBuffer frame as browsers deliver it', () => {
    const [frame] = new PacketEncoder().encode({ type: PacketType.ACK, nsp: '/', id: 1, data: [{ ok: true }] });
    const copy = new Uint8Array(frame).buffer; // Buffer#slice would share the pack pool
    expect(decodeOne(copy).packet).toEqual({ type: 3, nsp: '/', id: 1, data: [{ ok: true }] });
  });

  it('turns garbage bytes into a malformed event', () => {
    const { packet, errors } = decodeOne(new Uint8Array([0xc1, 0xff, 0x00]));
    expect(errors[0].code).toBe('MALFORMED');
    expect(packet).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['malformed', errors[0]] });
  });

  it('rejects a text frame', () => {
    expect(decodeOne('2["join"]').errors[0].message).toBe('packet must be a binary msgpack frame but got "2[\\"join\\"]"');
  });

  it('rejects a frame over the size limit without decoding', () => {
    const { errors } = decodeOne(new Uint8Array(101), 100);
    expect(errors[0]).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'packet must be at most 100 bytes but got 101' });
  });

  it('rejects trailing bytes', () => {
    const frame = new Uint8Array([...raw.pack({ type: 2, nsp: '/', data: ['x'] }), 0x01]);
    expect(decodeOne(frame).errors[0].message).toMatch(/^packet must be one msgpack value but decoding failed/);
  });

  it.each([
    [{ type: 9, nsp: '/', data: ['x'] }, 'packet.type must be an integer from 0 to 6 but got 9'],
    [{ type: 2, nsp: 'x', data: ['x'] }, 'packet.nsp must be a namespace string starting with / but got "x"'],
    [{ type: 2, nsp: '/', data: 'x' }, 'packet.data of EVENT must be a non-empty array but got "x"'],
    [{ type: 2, nsp: '/', data: ['disconnect'] }, 'packet.data[0] of EVENT must be a non-reserved event name but got "disconnect"'],
    [{ type: 2, nsp: '/', data: ['x'], id: -1 }, 'packet.id must be a non-negative integer but got -1'],
    [{ type: 3, nsp: '/', data: {}, id: 1 }, 'packet.data of ACK must be an array but got an object'],
    [{ type: 1, nsp: '/', data: 5 }, 'packet.data of DISCONNECT must be absent but got 5'],
    [{ type: 2, nsp: '/', data: ['x'], attachments: 1 }, 'packet must only have keys type, nsp, data, id but got attachments'],
    [[2, '/'], 'packet must be a msgpack map but got an array of length 2'],
  ])('rejects packet %j', (value, message) => {
    expect(decodeOne(raw.pack(value)).errors[0].message).toBe(message);
  });

  it('reports rejected frames to onMalformed', () => {
    const seen: string[] = [];
    const { Decoder } = createParser({ onMalformed: (e) => seen.push(e.code) });
    new Decoder().add(new Uint8Array([0xc1]));
    expect(seen).toEqual(['MALFORMED']);
  });

  it('stops emitting after destroy', () => {
    const decoder = new PacketDecoder();
    const seen: Packet[] = [];
    decoder.on('decoded', (p) => seen.push(p));
    decoder.destroy();
    decoder.add(new PacketEncoder().encode({ type: PacketType.EVENT, nsp: '/', data: ['x'] })[0]);
    expect(seen).toEqual([]);
  });

  it('round trips a payload', () => {
    expect(decodePayload(encodePayload({ a: [1, 'b'] }))).toEqual({ a: [1, 'b'] });
  });
});

describe('wire numbers and absent fields', () => {
  it('encodes an integer beyond 32 bits (an epoch-ms deadline) as a msgpack int 64, not float 64', () => {
    const deadline = 1_800_000_000_123;
    const [frame] = new PacketEncoder().encode({ type: PacketType.EVENT, nsp: '/', data: ['round:start', { deadline }] });
    const bytes = Buffer.from(frame);
    const at = bytes.indexOf(Buffer.from('deadline')) + 'deadline'.length;
    expect(bytes[at]).toBe(0xd3);
    expect(((decodeOne(frame).packet?.data as unknown[])[1] as { deadline: unknown }).deadline).toBe(deadline);
    const payload = Buffer.from(encodePayload({ deadline }));
    expect(payload[payload.indexOf(Buffer.from('deadline')) + 'deadline'.length]).toBe(0xd3);
  });

  it('leaves out keys whose value is undefined instead of sending ext 0x00', () => {
    // socket.io's server CONNECT carries {sid, pid: undefined} without connection state recovery
    const [frame] = new PacketEncoder().encode({ type: PacketType.CONNECT, nsp: '/', data: { sid: 'abc', pid: undefined } });
    expect(raw.unpack(frame)).toEqual({ type: 0, nsp: '/', data: { sid: 'abc' } });
    expect(Buffer.from(frame).includes(Buffer.from([0xd4, 0x00]))).toBe(false);
  });
});
