import * as jpeg from 'jpeg-js';
import type { RawImage } from './types';
import { errorMessage } from '@fedsnell/util';

interface JpegComponent {
  id: number;
  h: number;
  v: number;
}

export interface JpegHeader {
  width: number;
  height: number;
  components: JpegComponent[];
  jfif: boolean;
  /** transform byte of an Adobe APP14 marker: 0 = RGB/CMYK, 1 = YCbCr, 2 = YCCK */
  adobeTransform?: number;
  /** byte range of the APP14 marker, if any */
  adobeRange?: [number, number];
}

/** Reads the markers before the first scan. Returns undefined when no frame header is found. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  let pos = 2;
  let jfif = false;
  let adobeTransform: number | undefined;
  let adobeRange: [number, number] | undefined;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    const len = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const body = pos + 4;
    const tag = (n: number) => String.fromCharCode(...bytes.subarray(body, body + n));
    if (marker === 0xe0 && tag(5) === 'JFIF\0') jfif = true;
    if (marker === 0xee && tag(5) === 'Adobe' && len >= 14) {
      adobeTransform = bytes[body + 11];
      adobeRange = [pos, pos + 2 + len];
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (body + 6 > bytes.length) return undefined;
      const height = (bytes[body + 1] << 8) | bytes[body + 2];
      const width = (bytes[body + 3] << 8) | bytes[body + 4];
      const n = bytes[body + 5];
      const components: JpegComponent[] = [];
      for (let k = 0; k < n && body + 6 + 3 * k + 2 < bytes.length; k++) {
        const o = body + 6 + 3 * k;
        components.push({ id: bytes[o], h: bytes[o + 1] >> 4, v: bytes[o + 1] & 15 });
      }
      return { width, height, components, jfif, adobeTransform, adobeRange };
    }
    pos += 2 + len;
  }
  return undefined;
}

/** libjpeg's colour-space guess for 3 components (jdapimin.c default_decompress_parms). */
function isYcc(header: JpegHeader): boolean {
  if (header.jfif) return true;
  if (header.adobeTransform !== undefined) return header.adobeTransform !== 0;
  const [a, b, c] = header.components.map((k) => k.id);
  return !(a === 82 && b === 71 && c === 66);
}

/**
 * libjpeg's "fancy" upsampling (jdsample.c) of one component by (fx, fy) ∈ {1, 2}²: triangular
 * 3/4–1/4 weights with alternating rounding biases, edge rows and columns replicated. `plane` is
 * dw×dh; the result is cropped to w×h.
 */
export function fancyUpsample(plane: Uint8Array, dw: number, dh: number, fx: number, fy: number, w: number, h: number): Uint8Array {
  // vertical: rows as (3·near + far) sums, kept unscaled when a horizontal pass follows
  const rows = dh * fy;
  const sums = new Int32Array(rows * dw);
  for (let j = 0; j < dh; j++) {
    for (let v = 0; v < fy; v++) {
      const out = (j * fy + v) * dw;
      if (fy === 1) {
        for (let i = 0; i < dw; i++) sums[out + i] = plane[j * dw + i] * 4;
      } else {
        const far = v === 0 ? Math.max(j - 1, 0) : Math.min(j + 1, dh - 1);
        for (let i = 0; i < dw; i++) sums[out + i] = plane[j * dw + i] * 3 + plane[far * dw + i];
      }
    }
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * dw;
    const v = y % fy;
    if (fx === 1) {
      // h1v2: (sum + 1 or 2) >> 2; h1v1 never gets here
      for (let x = 0; x < w; x++) out[y * w + x] = (sums[row + x] + (v === 0 ? 1 : 2)) >> 2;
      continue;
    }
    const wide = new Uint8Array(dw * 2);
    if (fy === 1) {
      // h2v1 on plain samples (sums hold 4·sample)
      const s = (i: number) => sums[row + i] >> 2;
      for (let i = 0; i < dw; i++) {
        const c = s(i) * 3;
        wide[2 * i] = i === 0 ? s(0) : (c + s(i - 1) + 1) >> 2;
        wide[2 * i + 1] = i === dw - 1 ? s(i) : (c + s(i + 1) + 2) >> 2;
      }
    } else {
      // h2v2 on column sums: (3·this + other + 8 or 7) >> 4
      for (let i = 0; i < dw; i++) {
        const c = sums[row + i];
        wide[2 * i] = i === 0 ? (c * 4 + 8) >> 4 : (c * 3 + sums[row + i - 1] + 8) >> 4;
        wide[2 * i + 1] = i === dw - 1 ? (c * 4 + 7) >> 4 : (c * 3 + sums[row + i + 1] + 7) >> 4;
      }
    }
    out.set(wide.subarray(0, w), y * w);
  }
  return out;
}

const SCALE = 1 << 16;
const fix = (x: number) => Math.floor(x * SCALE + 0.5);

/** libjpeg's fixed-point YCbCr → RGB (jdcolor.c), in place on interleaved triplets. */
export function yccToRgb(data: Uint8Array): void {
  const half = SCALE / 2;
  for (let p = 0; p < data.length; p += 3) {
    const y = data[p];
    const cb = data[p + 1] - 128;
    const cr = data[p + 2] - 128;
    const r = y + Math.floor((fix(1.402) * cr + half) / SCALE);
    const g = y + Math.floor((-fix(0.34414) * cb + half - fix(0.71414) * cr) / SCALE);
    const b = y + Math.floor((fix(1.772) * cb + half) / SCALE);
    data[p] = r < 0 ? 0 : r > 255 ? 255 : r;
    data[p + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
    data[p + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
  }
}

/**
 * Decodes a baseline or progressive JPEG with grey or 3-component colour, aiming at what libjpeg (and
 * so PIL) produces: jpeg-js does the entropy decoding and IDCT (its integer IDCT can differ from
 * libjpeg's ISLOW by a level), while chroma upsampling (libjpeg's fancy upsampling for 2x1, 1x2, 2x2
 * subsampling) and the YCbCr → RGB conversion are done here, because jpeg-js replicates chroma and
 * truncates instead of rounding. Other subsampling factors keep jpeg-js's replication (libjpeg's too).
 * 4-component (CMYK/YCCK) files are rejected. `name` is only used in error messages.
 */
export function decodeJpeg(bytes: Uint8Array, name: string): RawImage {
  const header = readJpegHeader(bytes);
  if (!header) throw new Error(`decodeImage() could not decode ${name}: corrupt JPEG (no frame header)`);
  const n = header.components.length;
  if (n === 4) {
    throw new Error(`decodeImage() cannot decode ${name}: CMYK/YCCK JPEG (4 components) is not supported; convert it to RGB`);
  }
  if (n !== 1 && n !== 3) throw new Error(`decodeImage() cannot decode ${name}: JPEG with ${n} components`);
  // jpeg-js forces its own colour transform when an Adobe marker is present; the marker was read above
  let input = bytes;
  if (header.adobeRange) {
    const [a, b] = header.adobeRange;
    input = new Uint8Array(bytes.length - (b - a));
    input.set(bytes.subarray(0, a));
    input.set(bytes.subarray(b), a);
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(input, {
      useTArray: true,
      formatAsRGBA: false,
      colorTransform: false,
      maxResolutionInMP: 200,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new Error(`decodeImage() could not decode ${name}: corrupt JPEG (${errorMessage(e)})`);
  }
  const { width: w, height: h, data } = decoded;
  if (n === 1) return { width: w, height: h, channels: 3, data };
  const maxH = Math.max(...header.components.map((k) => k.h));
  const maxV = Math.max(...header.components.map((k) => k.v));
  header.components.forEach((k, c) => {
    const fx = maxH / k.h;
    const fy = maxV / k.v;
    if ((fx !== 1 && fx !== 2) || (fy !== 1 && fy !== 2) || (fx === 1 && fy === 1)) return;
    const dw = Math.ceil(w / fx);
    const dh = Math.ceil(h / fy);
    // jpeg-js replicated each sample; its first copy is the sample itself
    const plane = new Uint8Array(dw * dh);
    for (let j = 0; j < dh; j++) for (let i = 0; i < dw; i++) plane[j * dw + i] = data[((j * fy) * w + i * fx) * 3 + c];
    const up = fancyUpsample(plane, dw, dh, fx, fy, w, h);
    for (let p = 0; p < w * h; p++) data[p * 3 + c] = up[p];
  });
  if (isYcc(header)) yccToRgb(data);
  return { width: w, height: h, channels: 3, data };
}
