import * as jpeg from 'jpeg-js';
import { decodeJpeg, fancyUpsample, readJpegHeader, yccToRgb } from './jpeg';

// 6x4 RGB checkerboard of 2x2 colour cells, JPEG quality 95 with 4:2:0 chroma, written by Pillow 12.3
const PIL_420 = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAEAAYDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwC//wAEB/2XvgX+0H8G/FHxQ+L3gb+19d1D7F9svv7TurfzPLuNRhT5IJUQYSNBwoztyeSSSiiv8vvpkcQ5/gfpTcYYLDYurCjh8fXo0oRqTjClRoy9lRpU4pqMKVKlCFOlTilGnTjGEUoxSXm8D8N8O8X5FLOM+wdLF4utXxbqVq9OFWrUaxVZJzqVFKcnZJXk27JLZH//2Q==',
  'base64',
);
// Image.open(...).convert('RGB') of the same bytes in Pillow 12.3 (libjpeg-turbo)
const PIL_420_RGB = [249, 4, 1, 196, 12, 72, 51, 0, 181, 0, 26, 167, 27, 170, 90, 6, 197, 5, 196, 14, 75, 159, 36, 116, 18, 8, 130, 0, 44, 97, 48, 167, 47, 37, 181, 0, 45, 0, 179, 16, 12, 132, 56, 150, 132, 47, 167, 43, 198, 255, 71, 214, 255, 23, 0, 5, 255, 0, 29, 166, 20, 168, 82, 41, 185, 0, 213, 255, 22, 251, 248, 0];

describe('fancyUpsample', () => {
  it('upsamples 2x1 with 3/4-1/4 weights', () => {
    expect([...fancyUpsample(new Uint8Array([0, 100]), 2, 1, 2, 1, 4, 1)]).toEqual([0, 25, 75, 100]);
  });

  it('upsamples 2x2 with replicated edges', () => {
    // row 1 mixes source rows 0 and 1 as 3:1: column sums 100 and 500, then 3:1 across columns
    const out = fancyUpsample(new Uint8Array([0, 100, 100, 200]), 2, 2, 2, 2, 4, 4);
    expect([...out.subarray(0, 8)]).toEqual([0, 25, 75, 100, 25, 50, 100, 125]);
  });

  it('crops to the image width', () => {
    expect(fancyUpsample(new Uint8Array([0, 100]), 2, 1, 2, 1, 3, 1).length).toBe(3);
  });
});

describe('yccToRgb', () => {
  it('maps neutral chroma to grey', () => {
    const px = new Uint8Array([77, 128, 128]);
    yccToRgb(px);
    expect([...px]).toEqual([77, 77, 77]);
  });

  it('uses libjpeg fixed point', () => {
    // R = 100 + round(1.402 * 100) = 240; G = 100 + floor(0.5 - 0.71414 * 100) = 29; B = 100
    const px = new Uint8Array([100, 128, 228]);
    yccToRgb(px);
    expect([...px]).toEqual([240, 29, 100]);
  });
});

describe('readJpegHeader', () => {
  it('reads size, sampling and JFIF', () => {
    const h = readJpegHeader(PIL_420);
    expect([h?.width, h?.height, h?.jfif, h?.components]).toEqual([
      6,
      4,
      true,
      [{ id: 1, h: 2, v: 2 }, { id: 2, h: 1, v: 1 }, { id: 3, h: 1, v: 1 }],
    ]);
  });

  it('reads the Adobe transform', () => {
    const app14 = [0xff, 0xee, 0, 14, ...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, 0];
    const sof = [0xff, 0xc0, 0, 17, 8, 0, 1, 0, 1, 3, 82, 0x11, 0, 71, 0x11, 0, 66, 0x11, 0];
    const h = readJpegHeader(new Uint8Array([0xff, 0xd8, ...app14, ...sof]));
    expect([h?.adobeTransform, h?.adobeRange]).toEqual([0, [2, 18]]);
  });
});

describe('decodeJpeg', () => {
  it('matches Pillow on 4:2:0 chroma within the IDCT difference', () => {
    const img = decodeJpeg(PIL_420, 'a.jpg');
    const worst = Math.max(...PIL_420_RGB.map((v, i) => Math.abs(v - img.data[i])));
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('decodes a flat colour', () => {
    const data = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) data.set([200, 100, 50, 255], i * 4);
    const img = decodeJpeg(jpeg.encode({ width: 8, height: 8, data }, 95).data, 'b.jpg');
    const [r, g, b] = img.data;
    expect(Math.abs(r - 200) + Math.abs(g - 100) + Math.abs(b - 50)).toBeLessThanOrEqual(4);
  });

  it('rejects bytes without a frame header', () => {
    expect(() => decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'e.jpg')).toThrow(
      'decodeImage() could not decode e.jpg: corrupt JPEG (no frame header)',
    );
  });
});
