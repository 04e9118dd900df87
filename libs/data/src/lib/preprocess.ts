import type { RawImage } from './types';
import { type Interpolation, resizeU8 } from './resample';

/** How a backbone wants its input (timm's pretrained_cfg: input_size, mean, std, interpolation, crop_pct). */
export interface PreprocessConfig {
  inputSize: [number, number, number];
  mean: [number, number, number] | number[];
  std: [number, number, number] | number[];
  /** default 'bicubic', timm's default for ViTs */
  interpolation?: Interpolation;
  /** when given, timm's eval transform: resize the shorter side to floor(size / cropPct), centre-crop */
  cropPct?: number;
}

/**
 * The pipeline of timm/torchvision on a PIL image, step by step:
 * 1. `convert('RGB')`: grey is replicated to R, G and B; alpha is dropped (not composited).
 * 2. without cropPct, `Resize((H, W))`: Pillow resampling straight to H×W (see resample.ts);
 *    with cropPct, timm's `transforms_imagenet_eval`: scale = (floor(H / cropPct), floor(W / cropPct));
 *    if square, torchvision `Resize(scale)`: shorter side → scale, longer → trunc(scale · long / short);
 *    otherwise timm's `ResizeKeepRatio`: both sides divided by min(h / scaleH, w / scaleW) and rounded
 *    half-to-even; then torchvision `CenterCrop((H, W))`: offset round-half-even((size − crop) / 2), or,
 *    where the crop is larger than the image, zero padding of floor((crop − size) / 2) before.
 *    A resize to the image's own size is the identity (bit-exact).
 * 3. `ToTensor` + `Normalize`: float32 `(v / 255 − mean) / std`, each step rounded to float32 as torch
 *    does, laid out CHW.
 */
export function preprocessImage(image: RawImage, config: PreprocessConfig): Float32Array {
  validateConfig(config);
  validateImage(image);
  const [, outH, outW] = config.inputSize;
  const interpolation = config.interpolation ?? 'bicubic';
  const rgb = toRgb(image);
  let pixels: Uint8Array;
  if (config.cropPct === undefined) {
    pixels = resizeU8(rgb, image.width, image.height, 3, outW, outH, interpolation);
  } else {
    const [rw, rh] = evalResizeSize(image.width, image.height, outW, outH, config.cropPct);
    const resized = resizeU8(rgb, image.width, image.height, 3, rw, rh, interpolation);
    pixels = centerCrop(resized, rw, rh, outW, outH);
  }
  return normalizeChw(pixels, outW, outH, config.mean, config.std);
}

/** Size (w, h) that timm's eval transform resizes to before the centre crop. */
export function evalResizeSize(w: number, h: number, outW: number, outH: number, cropPct: number): [number, number] {
  const scaleH = Math.floor(outH / cropPct);
  const scaleW = Math.floor(outW / cropPct);
  if (scaleH === scaleW) {
    const s = scaleH;
    // torchvision's shorter-side rule; int() truncates
    return w <= h ? [s, Math.trunc((s * h) / w)] : [Math.trunc((s * w) / h), s];
  }
  const ratio = Math.min(h / scaleH, w / scaleW);
  return [roundHalfEven(w / ratio), roundHalfEven(h / ratio)];
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function cropOffset(size: number, crop: number): number {
  return crop > size ? -Math.floor((crop - size) / 2) : roundHalfEven((size - crop) / 2);
}

function centerCrop(rgb: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array {
  if (w === outW && h === outH) return rgb;
  const left = cropOffset(w, outW);
  const top = cropOffset(h, outH);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < outW; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= w) continue;
      const s = (sy * w + sx) * 3;
      const d = (y * outW + x) * 3;
      out[d] = rgb[s];
      out[d + 1] = rgb[s + 1];
      out[d + 2] = rgb[s + 2];
    }
  }
  return out;
}

/** PIL's convert('RGB') for L, LA, RGB and RGBA: replicate grey, drop alpha. */
export function toRgb(image: RawImage): Uint8Array {
  const { width, height, channels, data } = image;
  const n = width * height;
  if (channels === 3) return data instanceof Uint8Array ? data : new Uint8Array(data);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (channels === 1 || channels === 2) {
      const g = data[i * channels];
      out[i * 3] = g;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = g;
    } else {
      out[i * 3] = data[i * 4];
      out[i * 3 + 1] = data[i * 4 + 1];
      out[i * 3 + 2] = data[i * 4 + 2];
    }
  }
  return out;
}

function normalizeChw(rgb: Uint8Array, w: number, h: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    // a 256-entry table per channel: the float32 rounding sequence is done once per value
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 255) - m) / s;
    for (let i = 0; i < plane; i++) out[c * plane + i] = table[rgb[i * 3 + c]];
  }
  return out;
}

function validateConfig(config: PreprocessConfig): void {
  const { inputSize, mean, std, cropPct } = config;
  if (!Array.isArray(inputSize) || inputSize.length !== 3 || inputSize[0] !== 3) {
    throw new Error(`inputSize passed to preprocessImage() must be [3, H, W] but got ${JSON.stringify(inputSize)}`);
  }
  if (!inputSize.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`inputSize passed to preprocessImage() must hold positive integers but got ${JSON.stringify(inputSize)}`);
  }
  if (!Array.isArray(mean) || mean.length !== 3 || !mean.every(Number.isFinite)) {
    throw new Error(`mean passed to preprocessImage() must be 3 finite numbers but got ${JSON.stringify(mean)}`);
  }
  if (!Array.isArray(std) || std.length !== 3 || !std.every((v) => Number.isFinite(v) && v !== 0)) {
    throw new Error(`std passed to preprocessImage() must be 3 finite non-zero numbers but got ${JSON.stringify(std)}`);
  }
  if (cropPct !== undefined && !(cropPct > 0 && Number.isFinite(cropPct))) {
    throw new Error(`cropPct passed to preprocessImage() must be a positive number but got ${cropPct}`);
  }
  const interp = config.interpolation;
  if (interp !== undefined && interp !== 'nearest' && interp !== 'bilinear' && interp !== 'bicubic') {
    throw new Error(`interpolation passed to preprocessImage() must be 'nearest', 'bilinear' or 'bicubic' but got ${String(interp)}`);
  }
}

function validateImage(image: RawImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new Error(`image passed to preprocessImage() must have positive integer width and height but got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) {
    throw new Error(`image passed to preprocessImage() must have 1, 2, 3 or 4 channels but got ${channels}`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(
      `image passed to preprocessImage() must hold width*height*channels = ${width * height * channels} bytes but got ${data.length}`,
    );
  }
}

/**
 * The preprocessing a backbone's resolved pretrained_cfg asks for (DESIGN.md: RGB, resize to
 * input_size, [0, 1], mean/std; timm's interpolation and crop_pct when the config names them). An
 * interpolation Pillow-compatible resampling does not offer falls back to bicubic, timm's ViT default.
 */
export function preprocessFromPretrained(cfg: {
  inputSize: [number, number, number];
  mean: [number, number, number] | number[];
  std: [number, number, number] | number[];
  interpolation?: string;
  cropPct?: number;
}): PreprocessConfig {
  const { interpolation } = cfg;
  return {
    inputSize: cfg.inputSize,
    mean: cfg.mean,
    std: cfg.std,
    ...(interpolation === 'bilinear' || interpolation === 'bicubic' || interpolation === 'nearest' ? { interpolation } : {}),
    ...(cfg.cropPct !== undefined ? { cropPct: cfg.cropPct } : {}),
  };
}
