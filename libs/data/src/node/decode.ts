import { PNG } from 'pngjs';
import { decodeJpeg } from '../lib/jpeg';
import type { RawImage } from '../lib/types';
import { errorMessage } from '@fedsnell/util';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Decodes a PNG or JPEG (recognised by content, not by name) to 8-bit RGBA (PNG) or RGB (JPEG), matching what PIL's
 * `Image.open(f).convert('RGB')` gives for the colour channels:
 * - PNG: any bit depth and colour type, palette and alpha via pngjs; 16-bit samples keep their high
 *   byte as PIL does for 16-bit RGB/RGBA/LA (PIL clips 16-bit grey "I;16" at 255 instead, which
 *   whitens real 16-bit scans; we keep the high byte there too). A tRNS chunk on grey/RGB images is
 *   ignored, because pngjs would blacken the keyed colour while PIL keeps it once alpha is dropped.
 * - JPEG: see decodeJpeg() (libjpeg-style upsampling and colour conversion over jpeg-js; CMYK rejected).
 * `name` is only used in error messages.
 */
export function decodeImage(bytes: Uint8Array, name: string): RawImage {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return decodePng(bytes, name);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes, name);
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`decodeImage() could not decode ${name}: not a PNG or JPEG file (first bytes ${head || 'none'})`);
}

function decodePng(bytes: Uint8Array, name: string): RawImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 33 || buf.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`decodeImage() could not decode ${name}: PNG without an IHDR header`);
  }
  const depth = buf[24];
  const colorType = buf[25];
  const input = colorType === 0 || colorType === 2 ? withoutChunk(buf, 'tRNS', name) : buf;
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(input, { skipRescale: depth === 16 });
  } catch (e) {
    throw new Error(`decodeImage() could not decode ${name}: corrupt PNG (${errorMessage(e)})`);
  }
  const { width, height } = png;
  const n = width * height * 4;
  const data = new Uint8Array(n);
  // with skipRescale, pngjs hands 16-bit images back as a Uint16Array behind the Buffer type
  const src: ArrayLike<number> = png.data;
  if (depth === 16) for (let i = 0; i < n; i++) data[i] = src[i] >> 8;
  else data.set(png.data.subarray(0, n));
  return { width, height, channels: 4, data };
}

function withoutChunk(buf: Buffer, type: string, name: string): Buffer {
  const kept: Buffer[] = [buf.subarray(0, 8)];
  let pos = 8;
  let dropped = false;
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const end = pos + 12 + len;
    if (end > buf.length) {
      throw new Error(`decodeImage() could not decode ${name}: truncated PNG chunk at byte ${pos}`);
    }
    if (buf.toString('latin1', pos + 4, pos + 8) === type) dropped = true;
    else kept.push(buf.subarray(pos, end));
    pos = end;
  }
  return dropped ? Buffer.concat(kept) : buf;
}
