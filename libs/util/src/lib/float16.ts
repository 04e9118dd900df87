// IEEE 754 binary16 and bfloat16 packing. Done on the float32 bit pattern (not with Math) so that
// rounding is exactly round-to-nearest-even and NaNs are encoded as numpy's astype(float16) does.

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    // numpy keeps the payload's top ten bits, quiet bit included; a NaN whose payload lives only in
    // the dropped low bits becomes 0x7c01 so that it stays a NaN
    const payload = mantissa >>> 13;
    return sign | 0x7c00 | (payload === 0 ? 1 : payload);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = m · 2^-24, so m = (1.mantissa) · 2^(exponent-126).
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const truncated = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = rest > halfway || (rest === halfway && (truncated & 1) === 1);
    // A carry out of the subnormal range lands exactly on the smallest normal's encoding.
    return sign | (truncated + (roundUp ? 1 : 0));
  }
  const truncated = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  const roundUp = rest > 0x1000 || (rest === 0x1000 && (truncated & 1) === 1);
  // A carry into the exponent is the correct result, up to and including overflow to infinity.
  return sign | (truncated + (roundUp ? 1 : 0));
}

/** float32 → IEEE binary16 bit patterns, round-to-nearest-even; overflow → ±Inf; NaN stays NaN. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const bits = bitsOf(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfFromFloatBits(bits[i]);
  return out;
}

/** IEEE binary16 bit patterns → float32 (exact: every half value is a float32). */
export function float16BitsToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      const magnitude = mantissa * 2 ** -24;
      out[i] = sign ? -magnitude : magnitude;
    } else if (exponent === 0x1f) {
      outBits[i] = sign | 0x7f800000 | (mantissa << 13);
    } else {
      outBits[i] = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
  }
  return out;
}

/** bfloat16 bit patterns → float32 (bfloat16 is the top half of a float32). */
export function bfloat16BitsToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < halves.length; i++) outBits[i] = halves[i] << 16;
  return out;
}

const scratch = new Float32Array(1);
const scratchBits = bitsOf(scratch);

/** IEEE binary16 bits of one number (rounded to float32 first, then as float32ToFloat16Bits). */
export function toFloat16Bits(value: number): number {
  scratch[0] = value;
  return halfFromFloatBits(scratchBits[0]);
}

/** The value of one IEEE binary16 bit pattern (exact). */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
