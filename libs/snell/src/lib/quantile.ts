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
 * k-th smallest float64 rounds to the k-th smallest float32, and values whose float32 images fall
 * in different radix buckets are ordered as their buckets: one pass histograms the top digit of the
 * float32 keys (rounded a chunk at a time, never a full float32 copy), a second gathers the float64
 * values of the bucket(s) holding ranks lo and hi, and the rest runs on those candidates only (the
 * float32 radix select, then a sort of the few float64 values sharing the selected float32 image).
 * `histogram`, when given, holds countAbsKeys of exactly |values| (merge64 builds it as it writes ΔW),
 * and the first pass is skipped: rejecting NaN is then the producer's job.
 */
export function absQuantile64(values: Float64Array, q: number, histogram?: Uint32Array): number {
  if (values.length === 0) throw new RangeError('values passed to absQuantile64() must not be empty but got length 0');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q passed to absQuantile64() must be in [0, 1] but got ${q}`);
  const n = values.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const hist = histogram ?? topDigitHistogram64(values);
  const bucketLo = findBucket(hist, lo);
  const bucketHi = hi === lo ? bucketLo : findBucket(hist, hi);
  const candLo = gatherBucket64(values, bucketLo.bucket, hist[bucketLo.bucket]);
  const candHi = bucketHi.bucket === bucketLo.bucket ? candLo : gatherBucket64(values, bucketHi.bucket, hist[bucketHi.bucket]);
  const vLo = selectAmong64(candLo, bucketLo.rank);
  const vHi = hi === lo ? vLo : selectAmong64(candHi, bucketHi.rank);
  return vLo + (pos - lo) * (vHi - vLo);
}

const CHUNK = 4096;

/**
 * An empty histogram of the top radix digit of float32 keys, as absQuantile64 takes it: a producer
 * of ΔW (merge64) can fill it row by row with countAbsKeys while the row is in cache, which spares
 * absQuantile64 its first pass.
 */
export function absKeyHistogram(): Uint32Array {
  return new Uint32Array(1 << DIGITS[0][1]);
}

/** Adds the keys of `abs` (|x| already rounded to float32) to `hist`; false when one of them is NaN. */
export function countAbsKeys(hist: Uint32Array, abs: Float32Array, length = abs.length): boolean {
  const shift = DIGITS[0][0];
  const bits = new Uint32Array(abs.buffer, abs.byteOffset, length);
  let noNaN = true;
  for (let i = 0; i < length; i++) {
    const k = bits[i];
    if (k > ABS_NAN_KEY) noNaN = false;
    hist[k >>> shift]++;
  }
  return noNaN;
}

/** Histogram of the top radix digit of the float32 keys of |values|; throws on NaN. */
function topDigitHistogram64(values: Float64Array): Uint32Array {
  const hist = absKeyHistogram();
  const chunk = new Float32Array(CHUNK);
  for (let start = 0; start < values.length; start += CHUNK) {
    const len = Math.min(CHUNK, values.length - start);
    for (let i = 0; i < len; i++) chunk[i] = Math.abs(values[start + i]);
    if (!countAbsKeys(hist, chunk, len)) {
      const at = values.findIndex((v, i) => i >= start && Number.isNaN(v));
      throw new RangeError(`values passed to absQuantile64() must not contain NaN but got NaN at index ${at}`);
    }
  }
  return hist;
}

/** The `count` values |v| whose float32 key lies in top-digit `bucket`, in index order. */
function gatherBucket64(values: Float64Array, bucket: number, count: number): Float64Array {
  const shift = DIGITS[0][0];
  // For non-negative floats the key orders like the value: the bucket is a closed float32 range.
  const low = keyToValue(bucket << shift >>> 0, 'abs');
  const high = keyToValue((((bucket + 1) << shift) - 1) >>> 0, 'abs');
  const out = new Float64Array(count);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const m = Math.abs(values[i]);
    const r = Math.fround(m);
    if (r >= low && r <= high) out[j++] = m;
  }
  return out;
}

/** The value of the given ascending rank among non-negative float64 `candidates` sharing a top digit. */
function selectAmong64(candidates: Float64Array, rank: number): number {
  const rounded = Float32Array.from(candidates);
  const keys = new Uint32Array(rounded.buffer);
  const image = keyToValue(selectKey(keys, keys.length, rank, 1), 'abs');
  let below = 0;
  const ties: number[] = [];
  for (let i = 0; i < rounded.length; i++) {
    const r = rounded[i];
    if (r < image) below++;
    else if (r === image) ties.push(candidates[i]);
  }
  ties.sort((a, b) => a - b);
  return ties[rank - below];
}
