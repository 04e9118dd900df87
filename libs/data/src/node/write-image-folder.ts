import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { PNG, type ColorType } from 'pngjs';
import type { RawExample, RawImage } from '../lib/types';

const COLOR_TYPE: Record<RawImage['channels'], ColorType> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Encodes 8-bit pixels as a PNG of the matching colour type (grey stays 1 channel). */
export function encodePng(image: RawImage): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`image passed to encodePng() must hold width*height*channels = ${width * height * channels} bytes but got ${data.length}`);
  }
  const colorType = COLOR_TYPE[channels];
  const png = new PNG({ width, height, colorType, inputColorType: colorType, bitDepth: 8 });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth: 8, inputHasAlpha: channels === 2 || channels === 4 });
}

function checkName(what: string, name: string): void {
  if (name === '' || name.startsWith('.') || /[/\\\0]/.test(name)) {
    throw new Error(`${what} passed to writeImageFolder() must be a plain, non-hidden file name but got ${JSON.stringify(name)}`);
  }
}

/**
 * Writes examples as `<dir>/<class>/<name>.png` (name defaults to the example's position in its class,
 * zero-padded to 5 digits) and creates every class folder. Classes must already be in sorted order so
 * that openImageFolder() gives back the same label indices. Returns the number of files written.
 */
export async function writeImageFolder(dir: string, classes: string[], examples: Iterable<RawExample>): Promise<number> {
  classes.forEach((c, i) => {
    checkName('class name', c);
    if (i > 0 && !(classes[i - 1] < c)) {
      throw new Error(
        `classes passed to writeImageFolder() must be unique and sorted (ImageFolder indexes classes in sorted order) but ${JSON.stringify(classes[i - 1])} comes before ${JSON.stringify(c)}`,
      );
    }
  });
  await Promise.all(classes.map((c) => fsp.mkdir(path.join(dir, c), { recursive: true })));
  const counts = new Array<number>(classes.length).fill(0);
  let written = 0;
  for (const ex of examples) {
    if (!Number.isInteger(ex.label) || ex.label < 0 || ex.label >= classes.length) {
      throw new Error(`label passed to writeImageFolder() must be in [0, ${classes.length}) but got ${ex.label}`);
    }
    const name = ex.name ?? String(counts[ex.label]).padStart(5, '0');
    checkName('example name', name);
    counts[ex.label]++;
    await fsp.writeFile(path.join(dir, classes[ex.label], `${name}.png`), encodePng(ex.image));
    written++;
  }
  return written;
}
