import { evalResizeSize, preprocessFromPretrained, preprocessImage, roundHalfEven, toRgb } from './preprocess';
import type { RawImage } from './types';

const plain = { mean: [0, 0, 0], std: [1, 1, 1] };
const img = (width: number, height: number, channels: RawImage['channels'], data: number[]): RawImage => ({
  width,
  height,
  channels,
  data: new Uint8Array(data),
});

describe('toRgb', () => {
  it('replicates grey', () => {
    expect([...toRgb(img(1, 1, 1, [9]))]).toEqual([9, 9, 9]);
  });

  it('drops alpha without compositing', () => {
    expect([...toRgb(img(1, 1, 4, [10, 20, 30, 0]))]).toEqual([10, 20, 30]);
    expect([...toRgb(img(1, 1, 2, [40, 0]))]).toEqual([40, 40, 40]);
  });
});

describe('preprocessImage', () => {
  it('scales to [0, 1] and lays out CHW', () => {
    const out = preprocessImage(img(2, 1, 3, [255, 0, 51, 0, 255, 102]), { inputSize: [3, 1, 2], ...plain });
    expect([...out]).toEqual([1, 0, 0, 1, Math.fround(0.2), Math.fround(0.4)]);
  });

  it('normalises per channel in float32', () => {
    const out = preprocessImage(img(1, 1, 3, [255, 0, 128]), {
      inputSize: [3, 1, 1],
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.25, 0.5],
    });
    const blue = Math.fround(Math.fround(Math.fround(128 / 255) - 0.5) / 0.5);
    expect([...out]).toEqual([1, -2, blue]);
  });

  it('averages 2x2 to 1x1', () => {
    const out = preprocessImage(img(2, 2, 1, [10, 20, 30, 41]), { inputSize: [3, 1, 1], ...plain, interpolation: 'bilinear' });
    expect([...out]).toEqual([26, 26, 26].map((v) => Math.fround(v / 255)));
  });

  it('keeps a constant image constant through resize and crop', () => {
    const out = preprocessImage(img(9, 6, 3, new Array(162).fill(200)), { inputSize: [3, 4, 4], ...plain, cropPct: 0.875 });
    expect(new Set(out)).toEqual(new Set([Math.fround(200 / 255)]));
  });

  it('is the identity at the input size', () => {
    const data = Array.from({ length: 12 }, (_, i) => i * 20);
    const out = preprocessImage(img(2, 2, 3, data), { inputSize: [3, 2, 2], ...plain, interpolation: 'bicubic' });
    expect([...out.slice(0, 4)]).toEqual([0, 60, 120, 180].map((v) => Math.fround(v / 255)));
  });

  it('centre-crops after the eval resize', () => {
    // 4x1 -> cropPct 1 keeps the short side 1, so the long side stays 4: crop 2 at offset round(1) = 1
    const out = preprocessImage(img(4, 1, 1, [0, 51, 102, 153]), { inputSize: [3, 1, 2], ...plain, cropPct: 1 });
    expect([...out.slice(0, 2)]).toEqual([Math.fround(0.2), Math.fround(0.4)]);
  });

  it('rejects a non-RGB input size', () => {
    expect(() => preprocessImage(img(1, 1, 1, [0]), { inputSize: [1, 1, 1], ...plain })).toThrow(
      'inputSize passed to preprocessImage() must be [3, H, W] but got [1,1,1]',
    );
  });

  it('rejects a zero std', () => {
    expect(() => preprocessImage(img(1, 1, 1, [0]), { inputSize: [3, 1, 1], mean: [0, 0, 0], std: [1, 0, 1] })).toThrow(
      'std passed to preprocessImage() must be 3 finite non-zero numbers but got [1,0,1]',
    );
  });

  it('rejects pixels that do not match the size', () => {
    expect(() => preprocessImage(img(2, 2, 3, [0, 0, 0]), { inputSize: [3, 1, 1], ...plain })).toThrow(
      'must hold width*height*channels = 12 bytes but got 3',
    );
  });
});

describe('evalResizeSize', () => {
  it('follows timm for a 224 crop at 0.875', () => {
    // floor(224 / 0.875) = 256 on the shorter side; 256 * 640 / 480 = 341.3 -> 341
    expect(evalResizeSize(640, 480, 224, 224, 0.875)).toEqual([341, 256]);
  });

  it('keeps ratio for non-square targets', () => {
    // scale (10, 20); ratio = min(40 / 10, 40 / 20) = 2 -> (20, 20)
    expect(evalResizeSize(40, 40, 20, 10, 1)).toEqual([20, 20]);
  });
});

describe('roundHalfEven', () => {
  it('rounds halves like Python', () => {
    expect([0.5, 1.5, 2.5, 2.6, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 3, -2]);
  });
});

describe('preprocessFromPretrained', () => {
  const base = { inputSize: [3, 8, 8] as [number, number, number], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

  it('keeps the interpolation and crop a config names', () => {
    expect(preprocessFromPretrained({ ...base, interpolation: 'bilinear', cropPct: 0.9 })).toEqual({ ...base, interpolation: 'bilinear', cropPct: 0.9 });
  });

  it('leaves out an interpolation it cannot resample with (bicubic applies)', () => {
    expect(preprocessFromPretrained({ ...base, interpolation: 'lanczos' })).toEqual(base);
  });
});
