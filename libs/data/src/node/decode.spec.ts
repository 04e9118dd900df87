import * as jpeg from 'jpeg-js';
import { decodeImage } from './decode';
import { be16, pngBytes } from './png-bytes.testing';

const rgba = (bytes: Buffer) => [...decodeImage(bytes, 'x.png').data];

describe('decodeImage PNG', () => {
  it('decodes 8-bit grey', () => {
    expect(rgba(pngBytes(2, 1, 8, 0, [[7, 200]]))).toEqual([7, 7, 7, 255, 200, 200, 200, 255]);
  });

  it('scales 2-bit grey like PIL', () => {
    expect(rgba(pngBytes(4, 1, 2, 0, [[0b00011011]])).filter((_, i) => i % 4 === 0)).toEqual([0, 85, 170, 255]);
  });

  it('decodes RGB', () => {
    expect(rgba(pngBytes(1, 1, 8, 2, [[1, 2, 3]]))).toEqual([1, 2, 3, 255]);
  });

  it('decodes RGBA', () => {
    expect(rgba(pngBytes(1, 1, 8, 6, [[1, 2, 3, 4]]))).toEqual([1, 2, 3, 4]);
  });

  it('decodes grey + alpha', () => {
    expect(rgba(pngBytes(1, 1, 8, 4, [[9, 100]]))).toEqual([9, 9, 9, 100]);
  });

  it('decodes a palette with transparency', () => {
    const png = pngBytes(2, 1, 8, 3, [[1, 0]], [['PLTE', [10, 20, 30, 40, 50, 60]], ['tRNS', [255, 128]]]);
    expect(rgba(png)).toEqual([40, 50, 60, 128, 10, 20, 30, 255]);
  });

  it('keeps the high byte of 16-bit RGB', () => {
    expect(rgba(pngBytes(1, 1, 16, 2, [be16(300, 0x80ff, 65535)]))).toEqual([1, 128, 255, 255]);
  });

  it('keeps the high byte of 16-bit grey', () => {
    expect(rgba(pngBytes(1, 1, 16, 0, [be16(0x1234)]))).toEqual([0x12, 0x12, 0x12, 255]);
  });

  it('keeps the colour that tRNS marks transparent', () => {
    const png = pngBytes(1, 1, 8, 2, [[10, 20, 30]], [['tRNS', be16(10, 20, 30)]]);
    expect(rgba(png).slice(0, 3)).toEqual([10, 20, 30]);
  });

  it('names the file when the data is corrupt', () => {
    const png = pngBytes(2, 2, 8, 2, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]);
    png[png.length - 20] ^= 0xff;
    expect(() => decodeImage(png, 'bad.png')).toThrow('decodeImage() could not decode bad.png: corrupt PNG');
  });
});

describe('decodeImage JPEG', () => {
  const solid = (r: number, g: number, b: number) => {
    const data = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) data.set([r, g, b, 255], i * 4);
    return jpeg.encode({ width: 8, height: 8, data }, 95).data;
  };

  it('decodes a flat colour within a few levels', () => {
    const img = decodeImage(solid(200, 100, 50), 'a.jpg');
    expect([img.width, img.height, img.channels]).toEqual([8, 8, 3]);
    const [r, g, b] = img.data;
    expect(Math.abs(r - 200) + Math.abs(g - 100) + Math.abs(b - 50)).toBeLessThanOrEqual(6);
  });

  it('rejects CMYK', () => {
    const bytes = Buffer.from(solid(1, 2, 3));
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    bytes[sof + 9] = 4;
    expect(() => decodeImage(bytes, 'c.jpg')).toThrow('decodeImage() cannot decode c.jpg: CMYK/YCCK JPEG (4 components)');
  });

  it('names the file when the data is corrupt', () => {
    const bytes = Buffer.from(solid(1, 2, 3)).subarray(0, 40);
    expect(() => decodeImage(bytes, 'cut.jpg')).toThrow('decodeImage() could not decode cut.jpg: corrupt JPEG');
  });
});

it('rejects bytes that are neither PNG nor JPEG', () => {
  expect(() => decodeImage(Buffer.from('GIF89a'), 'x.gif')).toThrow(
    'decodeImage() could not decode x.gif: not a PNG or JPEG file (first bytes 47 49 46 38)',
  );
});
