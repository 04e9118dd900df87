import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RawImage } from '../lib/types';
import { decodeImage } from './decode';
import { openImageFolder } from './image-folder';
import { encodePng, writeImageFolder } from './write-image-folder';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fedsnell-wif-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const image = (channels: RawImage['channels'], values: number[]): RawImage => ({
  width: 1,
  height: 1,
  channels,
  data: new Uint8Array(values),
});

describe('encodePng', () => {
  it.each([
    [1, [9], [9, 9, 9, 255]],
    [2, [9, 100], [9, 9, 9, 100]],
    [3, [1, 2, 3], [1, 2, 3, 255]],
    [4, [1, 2, 3, 4], [1, 2, 3, 4]],
  ] as const)('round-trips %s channel(s)', (channels, values, expected) => {
    expect([...decodeImage(encodePng(image(channels, [...values])), 'x').data]).toEqual(expected);
  });
});

describe('writeImageFolder', () => {
  it('writes one PNG per example under its class', async () => {
    const n = await writeImageFolder(root, ['a', 'b'], [
      { label: 1, image: image(1, [5]) },
      { label: 1, image: image(1, [6]) },
      { label: 0, image: image(1, [7]), name: 'seven' },
    ]);
    expect(n).toBe(3);
    expect(readdirSync(path.join(root, 'b'))).toEqual(['00000.png', '00001.png']);
    expect(decodeImage(readFileSync(path.join(root, 'a', 'seven.png')), 'x').data[0]).toBe(7);
  });

  it('reads back with the same labels', async () => {
    await writeImageFolder(root, ['0', '1', '2'], [2, 0, 1, 2].map((label) => ({ label, image: image(1, [label]) })));
    const ds = await openImageFolder(root, { inputSize: [3, 1, 1], mean: [0, 0, 0], std: [1, 1, 1] });
    expect([...ds.labels]).toEqual([0, 1, 2, 2]);
  });

  it('rejects unsorted classes', async () => {
    await expect(writeImageFolder(root, ['b', 'a'], [])).rejects.toThrow(
      'classes passed to writeImageFolder() must be unique and sorted (ImageFolder indexes classes in sorted order) but "b" comes before "a"',
    );
  });

  it('rejects a class name with a slash', async () => {
    await expect(writeImageFolder(root, ['T-shirt/top'], [])).rejects.toThrow(
      'class name passed to writeImageFolder() must be a plain, non-hidden file name but got "T-shirt/top"',
    );
  });

  it('rejects a label without a class', async () => {
    await expect(writeImageFolder(root, ['a'], [{ label: 1, image: image(1, [0]) }])).rejects.toThrow(
      'label passed to writeImageFolder() must be in [0, 1) but got 1',
    );
  });
});
