/**
 * Image resizing that reproduces Pillow's `Image.resize` for 8-bit images (Pillow's
 * libImaging/Resample.c and Geometry.c), so that preprocessing here matches a timm/torchvision pipeline
 * on PIL images pixel for pixel.
 *
 * BILINEAR / BICUBIC: separable convolution, horizontal pass first, then vertical. Each output pixel
 * `xx` is centred at `(xx + 0.5) * scale` in input coordinates with `scale = in / out`; the filter
 * support (1 for bilinear, 2 for bicubic with a = −0.5) is multiplied by `max(scale, 1)`, i.e. the
 * filter widens when downscaling (antialiasing). Taps run over `[round(c − support), round(c + support))`
 * clipped to the image and are normalised to sum 1, then turned into 22-bit fixed point
 * (`trunc(w·2²² ± 0.5)`); each pass accumulates `2²¹ + Σ pixel·w`, shifts right by 22 and clamps to
 * 0..255, so the intermediate image is rounded to uint8 exactly as Pillow does. A pass whose size is
 * unchanged is skipped (identity when both sizes match).
 *
 * NEAREST: Pillow's affine scaling, input pixel `trunc(scale·0.5 + k·scale)` accumulated in doubles.
 */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function bilinearFilter(x: number): number {
  const ax = Math.abs(x);
  return ax < 1 ? 1 - ax : 0;
}

function bicubicFilter(x: number): number {
  const a = -0.5;
  const ax = Math.abs(x);
  if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0;
}

interface Taps {
  /** first input index and tap count per output index */
  start: Int32Array;
  count: Int32Array;
  /** fixed-point weights, `ksize` per output index */
  weights: Int32Array;
  ksize: number;
}

function precomputeTaps(inSize: number, outSize: number, interpolation: 'bilinear' | 'bicubic'): Taps {
  const filter = interpolation === 'bicubic' ? bicubicFilter : bilinearFilter;
  const baseSupport = interpolation === 'bicubic' ? 2 : 1;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const invScale = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter((x + xmin - center + 0.5) * invScale);
      sum += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x] / sum : k[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(src: Uint8Array, w: number, h: number, c: number, outW: number, taps: Taps): Uint8Array {
  const out = new Uint8Array(outW * h * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let xx = 0; xx < outW; xx++) {
      const x0 = taps.start[xx];
      const n = taps.count[xx];
      const kOff = xx * taps.ksize;
      for (let ch = 0; ch < c; ch++) {
        let acc = HALF;
        for (let x = 0; x < n; x++) acc += src[row + (x0 + x) * c + ch] * taps.weights[kOff + x];
        out[(y * outW + xx) * c + ch] = clip8(acc);
      }
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, w: number, c: number, outH: number, taps: Taps): Uint8Array {
  const stride = w * c;
  const out = new Uint8Array(outH * stride);
  for (let yy = 0; yy < outH; yy++) {
    const y0 = taps.start[yy];
    const n = taps.count[yy];
    const kOff = yy * taps.ksize;
    for (let i = 0; i < stride; i++) {
      let acc = HALF;
      for (let y = 0; y < n; y++) acc += src[(y0 + y) * stride + i] * taps.weights[kOff + y];
      out[yy * stride + i] = clip8(acc);
    }
  }
  return out;
}

function nearestIndices(inSize: number, outSize: number): Int32Array {
  const scale = inSize / outSize;
  const idx = new Int32Array(outSize);
  let pos = scale * 0.5;
  for (let i = 0; i < outSize; i++) {
    idx[i] = Math.min(inSize - 1, Math.trunc(pos));
    pos += scale;
  }
  return idx;
}

function resizeNearest(src: Uint8Array, w: number, h: number, c: number, outW: number, outH: number): Uint8Array {
  const xs = nearestIndices(w, outW);
  const ys = nearestIndices(h, outH);
  const out = new Uint8Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const s = (ys[y] * w + xs[x]) * c;
      const d = (y * outW + x) * c;
      for (let ch = 0; ch < c; ch++) out[d + ch] = src[s + ch];
    }
  }
  return out;
}

/**
 * Resizes interleaved 8-bit pixels (`c` channels, row-major) from w×h to outW×outH like Pillow's
 * `Image.resize((outW, outH), resample)`. Returns `src` itself when the size does not change.
 */
export function resizeU8(
  src: Uint8Array,
  w: number,
  h: number,
  c: number,
  outW: number,
  outH: number,
  interpolation: Interpolation,
): Uint8Array {
  for (const [name, v] of [['w', w], ['h', h], ['outW', outW], ['outH', outH]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${name} passed to resizeU8() must be a positive integer but got ${v}`);
    }
  }
  if (src.length !== w * h * c) {
    throw new Error(`src passed to resizeU8() must hold w*h*c = ${w * h * c} values but got ${src.length}`);
  }
  if (w === outW && h === outH) return src;
  if (interpolation === 'nearest') return resizeNearest(src, w, h, c, outW, outH);
  let cur = src;
  if (outW !== w) cur = resampleHorizontal(cur, w, h, c, outW, precomputeTaps(w, outW, interpolation));
  if (outH !== h) cur = resampleVertical(cur, outW, c, outH, precomputeTaps(h, outH, interpolation));
  return cur;
}
