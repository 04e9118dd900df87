import { crc32, deflateSync } from 'node:zlib';

/** Test helper: builds a PNG by hand (filter 0 rows), independent of pngjs, so decoding is checked
 * against an encoder we control. `rows` are already packed to the bit depth. */
export function pngBytes(
  width: number,
  height: number,
  depth: number,
  colorType: number,
  rows: number[][],
  extra: Array<[string, number[]]> = [],
): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const raw = Buffer.concat(rows.map((r) => Buffer.from([0, ...r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra.map(([type, data]) => chunk(type, Buffer.from(data))),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Big-endian 16-bit samples as bytes. */
export const be16 = (...v: number[]): number[] => v.flatMap((x) => [x >> 8, x & 0xff]);
