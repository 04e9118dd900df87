/**
 * Exact quantiles without sorting: the two order statistics that the reference's linear
 * interpolation needs are found by radix select on the float bits (11/11/10-bit digits, one
 * histogram pass per digit over a shrinking candidate set), O(N) instead of O(N log N).
 *
 * Float32 values map to uint32 keys that order like the numbers: non-negative floats order like
 * their bit patterns; negatives are bit-flipped. For |x| the key is simply bits & 0x7fffffff.
 *
 * Precision: the order statistics are exact float32 values; pos = q·(N−1) and the interpolation
 * are computed in float64, as the float64 reference (golden vectors) does. PyTorch training in
 * float32 computes pos and the interpolation in float32 instead, which can differ in the last
 * float32 bits of τ (and, when q·(N−1) is within float32 rounding of an integer, in lo).
 */

const DIGITS: readonly [number, number][] = [
  [21, 11],
  [10, 11],
  [0, 10],
];

type KeyMode = 'signed' | 'abs';

const ABS_NAN_KEY = 0x7f800000; // keys above this (under 'abs') are NaN

function checkArgs(fn: string, values: Float32Array, q: number): void {
  if (values.length === 0) throw new RangeError(`values passed to ${fn} must not be empty but got length 0`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q passed to ${fn} must be in [0, 1] but got ${q}`);
}

/** Quantile of `values` with linear interpolation (torch.quantile / numpy 'linear'). */
export function exactQuantile(values: Float32Array, q: number): number {
  checkArgs('exactQuantile()', values, q);
  return interpolate(values, q, 'signed', 'exactQuantile()');
}

/** Quantile of |values| without materialising |values|; what sparsification needs. */
export function absQuantile(values: Float32Array, q: number): number {
  return absQuantileParts(values, q).tau;
}

export interface QuantileParts {
  tau: number;
  /** Ascending ranks and values of the two order statistics that τ interpolates. */
  lo: number;
  hi: number;
  vLo: number;
  vHi: number;
}

/** absQuantile with the order statistics it used (lets callers count survivors without a pass). */
export function absQuantileParts(values: Float32Array, q: number): QuantileParts {
  checkArgs('absQuantile()', values, q);
  return interpolateParts(values, q, 'abs', 'absQuantile()');
}

function interpolate(values: Float32Array, q: number, mode: KeyMode, fn: string): number {
  return interpolateParts(values, q, mode, fn).tau;
}

function interpolateParts(values: Float32Array, q: number, mode: KeyMode, fn: string): QuantileParts {
  const n = values.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const [vLo, vHi] = selectOrderStatistics(values, lo, hi, mode, fn);
  return { tau: vLo + (pos - lo) * (vHi - vLo), lo, hi, vLo, vHi };
}

const keyBuf = new Uint32Array(1);
const keyFloat = new Float32Array(keyBuf.buffer);

function keyToValue(key: number, mode: KeyMode): number {
  keyBuf[0] = mode === 'abs' ? key : key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return keyFloat[0];
}

/** Values of rank lo and hi (0-based, ascending), hi ∈ {lo, lo + 1}. */
function selectOrderStatistics(values: Float32Array, lo: number, hi: number, mode: KeyMode, fn: string): [number, number] {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const [shift, width] = DIGITS[0];
  const hist = new Uint32Array(1 << width);
  let nan = -1;
  // Two monomorphic loops: this pass reads all N values and dominates the cost.
  if (mode === 'abs') {
    for (let i = 0; i < bits.length; i++) {
      const k = bits[i] & 0x7fffffff;
      if (k > ABS_NAN_KEY) nan = i;
      hist[k >>> shift]++;
    }
  } else {
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      if ((b & 0x7fffffff) > ABS_NAN_KEY) nan = i;
      hist[(b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0) >>> shift]++;
    }
  }
  if (nan >= 0) throw new RangeError(`values passed to ${fn} must not contain NaN but got NaN at index ${nan}`);

  const bucketLo = findBucket(hist, lo);
  const bucketHi = hi === lo ? bucketLo : findBucket(hist, hi);
  const candLo = gather(bits, mode, shift, bucketLo.bucket, hist[bucketLo.bucket]);
  const candHi = bucketHi.bucket === bucketLo.bucket ? candLo : gather(bits, mode, shift, bucketHi.bucket, hist[bucketHi.bucket]);
  const keyLo = selectKey(candLo, candLo.length, bucketLo.rank, 1);
  const keyHi = hi === lo ? keyLo : selectKey(candHi, candHi.length, bucketHi.rank, 1);
  return [keyToValue(keyLo, mode), keyToValue(keyHi, mode)];
}

function findBucket(hist: Uint32Array, rank: number): { bucket: number; rank: number } {
  let before = 0;
  for (let b = 0; b < hist.length; b++) {
    if (rank < before + hist[b]) return { bucket: b, rank: rank - before };
    before += hist[b];
  }
  throw new Error(`selectOrderStatistics(): rank ${rank} out of range`);
}

function gather(bits: Uint32Array, mode: KeyMode, shift: number, bucket: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let j = 0;
  if (mode === 'abs') {
    for (let i = 0; i < bits.length; i++) {
      const k = bits[i] & 0x7fffffff;
      if (k >>> shift === bucket) out[j++] = k;
    }
  } else {
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      const k = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
      if (k >>> shift === bucket) out[j++] = k;
    }
  }
  return out;
}

/** Key of the given rank among keys[0..len), which all share the digits above DIGITS[level]. */
function selectKey(keys: Uint32Array, len: number, rank: number, level: number): number {
  if (len === 1) return keys[0];
  const [shift, width] = DIGITS[level];
  const mask = (1 << width) - 1;
  const hist = new Uint32Array(1 << width);
  for (let i = 0; i < len; i++) hist[(keys[i] >>> shift) & mask]++;
  const found = findBucket(hist, rank);
  if (level === DIGITS.length - 1) {
    // Last digit: every key in the bucket is equal.
    for (let i = 0; i < len; i++) if ((keys[i] & mask) === found.bucket) return keys[i];
  }
  const next = new Uint32Array(hist[found.bucket]);
  let j = 0;
  for (let i = 0; i < len; i++) if (((keys[i] >>> shift) & mask) === found.bucket) next[j++] = keys[i];
  return selectKey(next, j, found.rank, level + 1);
}

/**
 * Quantile of |values| for float64 data, exact in float64. Rounding to float32 is monotone, so the
 * k-th smallest float64 rounds to the k-th smallest float32: select that in float32 by radix, then
 * resolve the float64 values that share its float32 image (usually a handful) by sorting them.
 */
export function absQuantile64(values: Float64Array, q: number): number {
  if (values.length === 0) throw new RangeError('values passed to absQuantile64() must not be empty but got length 0');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q passed to absQuantile64() must be in [0, 1] but got ${q}`);
  const n = values.length;
  const rounded = new Float32Array(n);
  for (let i = 0; i < n; i++) rounded[i] = Math.abs(values[i]);
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const [fLo, fHi] = selectOrderStatistics(rounded, lo, hi, 'abs', 'absQuantile64()');
  const vLo = refine64(values, rounded, fLo, lo);
  const vHi = hi === lo ? vLo : refine64(values, rounded, fHi, hi);
  return vLo + (pos - lo) * (vHi - vLo);
}

function refine64(values: Float64Array, rounded: Float32Array, image: number, rank: number): number {
  let below = 0;
  const ties: number[] = [];
  for (let i = 0; i < rounded.length; i++) {
    const r = rounded[i];
    if (r < image) below++;
    else if (r === image) ties.push(Math.abs(values[i]));
  }
  ties.sort((a, b) => a - b);
  return ties[rank - below];
}
