import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits } from './float16';

function half(x: number): number {
  return float32ToFloat16Bits(new Float32Array([x]))[0];
}

function fromHalf(bits: number): number {
  return float16BitsToFloat32(new Uint16Array([bits]))[0];
}

describe('float32ToFloat16Bits', () => {
  it('packs 1.0 as 0x3C00', () => expect(half(1)).toBe(0x3c00));
  it('packs -2.0 as 0xC000', () => expect(half(-2)).toBe(0xc000));
  it('packs the largest half 65504 as 0x7BFF', () => expect(half(65504)).toBe(0x7bff));
  it('rounds 65519 down to 65504', () => expect(half(65519)).toBe(0x7bff));
  it('overflows 65520 to +Inf', () => expect(half(65520)).toBe(0x7c00));
  it('overflows -1e6 to -Inf', () => expect(half(-1e6)).toBe(0xfc00));
  it('keeps infinities', () => expect([half(Infinity), half(-Infinity)]).toEqual([0x7c00, 0xfc00]));
  it('packs 2^-24 as the smallest subnormal', () => expect(half(2 ** -24)).toBe(0x0001));
  it('packs 2^-14 as the smallest normal', () => expect(half(2 ** -14)).toBe(0x0400));
  it('packs 3·2^-24 as subnormal 3', () => expect(half(3 * 2 ** -24)).toBe(0x0003));
  it('rounds 2^-25 (a tie) to zero', () => expect(half(2 ** -25)).toBe(0x0000));
  it('rounds just above 2^-25 up to 2^-24', () => expect(half(2 ** -25 * 1.0001)).toBe(0x0001));
  it('flushes 2^-26 to zero', () => expect(half(2 ** -26)).toBe(0x0000));
  it('rounds a subnormal tie to even', () => expect(half(2.5 * 2 ** -24)).toBe(0x0002));
  it('rounds a normal tie to even (1 + 2^-11 → 1)', () => expect(half(1 + 2 ** -11)).toBe(0x3c00));
  it('rounds a normal tie up to even (1 + 3·2^-11)', () => expect(half(1 + 3 * 2 ** -11)).toBe(0x3c02));
  it('rounds above a tie up (1 + 2^-11 + 2^-20)', () => expect(half(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01));
  it('keeps -0', () => expect(half(-0)).toBe(0x8000));
  // numpy 2.4.6: np.array([bits], np.uint32).view(np.float32).astype(np.float16).view(np.uint16)
  it.each([
    [0x7fc00000, 0x7e00],
    [0xffc00000, 0xfe00],
    [0x7fffffff, 0x7fff],
    [0x7fa00000, 0x7d00],
    [0x7f800001, 0x7c01],
    [0x7f802000, 0x7c01],
  ])('packs the NaN bits %i as numpy does', (floatBits, expected) => {
    const nan = new Float32Array(new Uint32Array([floatBits]).buffer);
    expect(float32ToFloat16Bits(nan)[0]).toBe(expected);
  });
});

describe('float16BitsToFloat32', () => {
  it('reads 0x3C00 as 1', () => expect(fromHalf(0x3c00)).toBe(1));
  it('reads 0x7BFF as 65504', () => expect(fromHalf(0x7bff)).toBe(65504));
  it('reads 0x0001 as 2^-24', () => expect(fromHalf(0x0001)).toBe(2 ** -24));
  it('reads 0x83FF as the largest negative subnormal', () => expect(fromHalf(0x83ff)).toBe(-1023 * 2 ** -24));
  it('reads 0x8000 as -0', () => expect(Object.is(fromHalf(0x8000), -0)).toBe(true));
  it('reads 0xFC00 as -Inf', () => expect(fromHalf(0xfc00)).toBe(-Infinity));
  it('reads 0x7E00 as NaN', () => expect(fromHalf(0x7e00)).toBeNaN());
  it('round-trips every finite half exactly', () => {
    const all = new Uint16Array(0x10000).map((_, i) => i);
    const back = float32ToFloat16Bits(float16BitsToFloat32(all));
    const mismatches = [...all].filter((h, i) => (h & 0x7c00) !== 0x7c00 && back[i] !== h);
    expect(mismatches).toEqual([]);
  });
});

describe('bfloat16BitsToFloat32', () => {
  it('reads 0x3F80 as 1', () => expect(bfloat16BitsToFloat32(new Uint16Array([0x3f80]))[0]).toBe(1));
  it('reads 0xC040 as -3', () => expect(bfloat16BitsToFloat32(new Uint16Array([0xc040]))[0]).toBe(-3));
  it('reads 0x7F80 as +Inf', () => expect(bfloat16BitsToFloat32(new Uint16Array([0x7f80]))[0]).toBe(Infinity));
});

describe('toFloat16Bits and fromFloat16Bits', () => {
  it('pack single numbers as the array form does', () => {
    expect([1, -2, 0.5, 65504, 70000, -Infinity, 2 ** -24].map(toFloat16Bits)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0xfc00, 0x0001]);
    expect(toFloat16Bits(NaN)).toBe(0x7e00);
  });

  it('read signed zero, infinity and NaN', () => {
    expect(Object.is(fromFloat16Bits(0x8000), -0)).toBe(true);
    expect(fromFloat16Bits(0x7c00)).toBe(Infinity);
    expect(fromFloat16Bits(0x7e00)).toBeNaN();
  });

  it('round-trip every finite half', () => {
    let mismatches = 0;
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) !== 0x7c00 && toFloat16Bits(fromFloat16Bits(bits)) !== bits) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
