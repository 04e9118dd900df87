import { fromFloat16Bits, toFloat16Bits } from './float16';

describe('float16', () => {
  it('encodes exact values', () => {
    expect([1, -2, 0.5, 65504].map(toFloat16Bits)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff]);
  });

  it('rounds ties to even', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: rounds to the even mantissa (1)
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('overflows to infinity and keeps NaN', () => {
    expect(toFloat16Bits(70000)).toBe(0x7c00);
    expect(toFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
  });

  it('handles subnormals', () => {
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
  });

  it('decodes signed zero and infinity', () => {
    expect(Object.is(fromFloat16Bits(0x8000), -0)).toBe(true);
    expect(fromFloat16Bits(0x7c00)).toBe(Infinity);
  });

  it('round trips every finite half', () => {
    let mismatches = 0;
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      if (toFloat16Bits(fromFloat16Bits(bits)) !== bits) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
