import { resizeU8 } from './resample';

const grey = (...v: number[]) => new Uint8Array(v);

describe('resizeU8', () => {
  it('averages 2x2 to 1x1, rounding to uint8 between passes', () => {
    // rows average to 15 and 35.5 -> 36, then (15 + 36) / 2 = 25.5 -> 26 (a float average would give 25)
    expect([...resizeU8(grey(10, 20, 30, 41), 2, 2, 1, 1, 1, 'bilinear')]).toEqual([26]);
  });

  it('widens the bilinear filter when downscaling (Pillow antialias, not a box average)', () => {
    // output 1 is centred at 3 with support 2: taps 1..3 weigh 0.25, 0.75, 0.75 -> 255 * 0.75 / 1.75 = 109.3
    expect([...resizeU8(grey(0, 0, 0, 255), 4, 1, 1, 2, 1, 'bilinear')]).toEqual([0, 109]);
  });

  it('interpolates bilinear upscaling at pixel centres', () => {
    // outputs centred at 0.25, 0.75, 1.25, 1.75 input pixels: 0.75 * 0 + 0.25 * 255 = 63.75 -> 64
    expect([...resizeU8(grey(0, 255), 2, 1, 1, 4, 1, 'bilinear')]).toEqual([0, 64, 191, 255]);
  });

  it('uses bicubic a = -0.5 when upscaling', () => {
    // at 0.75: taps -1.25..0.75 clipped to pixels 0 and 1 -> w(0.25) = 0.8438, w(0.75) = 0.1563 after renormalising
    expect([...resizeU8(grey(0, 255), 2, 1, 1, 4, 1, 'bicubic')]).toEqual([0, 53, 202, 255]);
  });

  it('picks nearest pixels at centres', () => {
    expect([...resizeU8(grey(0, 255), 2, 1, 1, 4, 1, 'nearest')]).toEqual([0, 0, 255, 255]);
  });

  it('matches Pillow 12.3 on a 5x3 ramp to 2x2', () => {
    const ramp = new Uint8Array(Array.from({ length: 15 }, (_, i) => i * 10));
    // Image.frombytes('L', (5, 3), ramp).resize((2, 2), f) with f = BICUBIC, BILINEAR, NEAREST
    expect([...resizeU8(ramp, 5, 3, 1, 2, 2, 'bicubic')]).toEqual([24, 46, 94, 116]);
    expect([...resizeU8(ramp, 5, 3, 1, 2, 2, 'bilinear')]).toEqual([29, 49, 91, 111]);
    expect([...resizeU8(ramp, 5, 3, 1, 2, 2, 'nearest')]).toEqual([10, 30, 110, 130]);
  });

  it('keeps a constant image constant', () => {
    const src = new Uint8Array(7 * 5 * 3).fill(77);
    for (const interp of ['nearest', 'bilinear', 'bicubic'] as const) {
      expect(new Set(resizeU8(src, 7, 5, 3, 3, 11, interp))).toEqual(new Set([77]));
    }
  });

  it('returns the input unchanged at the same size', () => {
    const src = grey(1, 2, 3, 4);
    expect(resizeU8(src, 2, 2, 1, 2, 2, 'bicubic')).toBe(src);
  });

  it('resizes channels independently', () => {
    const rgb = new Uint8Array([0, 10, 200, 255, 30, 100]);
    expect([...resizeU8(rgb, 2, 1, 3, 1, 1, 'bilinear')]).toEqual([128, 20, 150]);
  });

  it('rejects a zero output size', () => {
    expect(() => resizeU8(grey(1), 1, 1, 1, 0, 1, 'bilinear')).toThrow(
      'outW passed to resizeU8() must be a positive integer but got 0',
    );
  });

  it('rejects a buffer of the wrong length', () => {
    expect(() => resizeU8(grey(1, 2, 3), 2, 2, 1, 1, 1, 'bilinear')).toThrow('must hold w*h*c = 4 values but got 3');
  });
});
