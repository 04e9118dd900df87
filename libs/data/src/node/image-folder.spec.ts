import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { ImageFolderError } from '../lib/errors';
import { openImageFolder } from './image-folder';
import { pngBytes } from './png-bytes.testing';

const config = { inputSize: [3, 1, 1] as [number, number, number], mean: [0, 0, 0], std: [1, 1, 1] };
let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fedsnell-if-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Writes a 1x1 grey PNG of value v at root/rel. */
function put(rel: string, v = 0): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), pngBytes(1, 1, 8, 0, [[v]]));
}
const rel = (files: string[]) => files.map((f) => path.relative(root, f).split(path.sep).join('/'));

describe('openImageFolder', () => {
  it('orders classes by code unit like sorted()', async () => {
    for (const c of ['b', 'B', 'a', '10', '9']) put(`${c}/x.png`);
    expect((await openImageFolder(root, config)).classes).toEqual(['10', '9', 'B', 'a', 'b']);
  });

  it('walks class folders recursively in torchvision order', async () => {
    for (const f of ['c/z.png', 'c/a.PNG', 'c/sub-2/c.png', 'c/sub/b.jpeg']) put(f);
    expect(rel((await openImageFolder(root, config)).files)).toEqual(['c/a.PNG', 'c/z.png', 'c/sub/b.jpeg', 'c/sub-2/c.png']);
  });

  it('skips hidden files, hidden folders and other extensions', async () => {
    put('c/a.png');
    put('c/.b.png');
    put('c/.cache/d.png');
    put('.hidden/e.png');
    writeFileSync(path.join(root, 'c', 'notes.txt'), 'x');
    const ds = await openImageFolder(root, config);
    expect([ds.classes, rel(ds.files)]).toEqual([['c'], ['c/a.png']]);
  });

  it('labels examples by class index', async () => {
    for (const f of ['a/1.png', 'b/1.png', 'b/2.png']) put(f);
    expect([...(await openImageFolder(root, config)).labels]).toEqual([0, 1, 1]);
  });

  it('loads preprocessed images', async () => {
    put('a/1.png', 51);
    put('b/1.png', 102);
    const { x, y } = await (await openImageFolder(root, config)).load([1, 0]);
    expect([...x]).toEqual([0.4, 0.4, 0.4, 0.2, 0.2, 0.2].map(Math.fround));
    expect([...y]).toEqual([1, 0]);
  });

  it('decodes JPEG files', async () => {
    mkdirSync(path.join(root, 'a'));
    const data = Buffer.alloc(8 * 8 * 4, 255);
    writeFileSync(path.join(root, 'a', 'w.jpg'), jpeg.encode({ width: 8, height: 8, data }, 90).data);
    const { x } = await (await openImageFolder(root, config)).load([0]);
    expect(x[0]).toBeGreaterThan(0.97);
  });

  it('rejects a missing folder', async () => {
    await expect(openImageFolder(path.join(root, 'nope'), config)).rejects.toThrow(
      `dir passed to openImageFolder() must exist but nothing is at ${path.join(root, 'nope')}`,
    );
  });

  it('rejects a file', async () => {
    put('f.png');
    await expect(openImageFolder(path.join(root, 'f.png'), config)).rejects.toThrow('must be a folder but');
  });

  it('rejects a folder without class folders', async () => {
    put('loose.png');
    await expect(openImageFolder(root, config)).rejects.toThrow(`openImageFolder() found no class sub-folders in ${root}`);
  });

  it('rejects class folders without images', async () => {
    mkdirSync(path.join(root, 'a'));
    await expect(openImageFolder(root, config)).rejects.toThrow('found no .png/.jpg/.jpeg images in any class folder');
  });

  it('names empty classes', async () => {
    put('a/1.png');
    mkdirSync(path.join(root, 'b'));
    mkdirSync(path.join(root, 'c'));
    await expect(openImageFolder(root, config)).rejects.toThrow('found no .png/.jpg/.jpeg images for classes b, c in');
  });

  it('says why with a code and the empty classes', async () => {
    put('a/1.png');
    mkdirSync(path.join(root, 'b'));
    const error = await openImageFolder(root, config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFolderError);
    expect([(error as ImageFolderError).code, (error as ImageFolderError).emptyClasses]).toEqual(['EMPTY_CLASSES', ['b']]);
  });

  it('keeps empty classes when allowed', async () => {
    put('b/1.png');
    mkdirSync(path.join(root, 'a'));
    const ds = await openImageFolder(root, config, { allowEmpty: true });
    expect([ds.classes, [...ds.labels]]).toEqual([['a', 'b'], [1]]);
  });

  it('names a corrupt file when loading it', async () => {
    put('a/good.png');
    writeFileSync(path.join(root, 'a', 'bad.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]));
    const ds = await openImageFolder(root, config);
    await expect(ds.load([0])).rejects.toThrow(`decodeImage() could not decode ${path.join(root, 'a', 'bad.png')}`);
  });
});

describe('openImageFolder with symlinks', () => {
  it('follows a linked folder once even when it loops', async () => {
    put('c/a.png');
    put('elsewhere/b.png');
    symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'c', 'linked'));
    symlinkSync(path.join(root, 'c'), path.join(root, 'c', 'loop'));
    const ds = await openImageFolder(root, config);
    expect(rel(ds.files.filter((f) => f.includes(`${path.sep}c${path.sep}`)))).toEqual(['c/a.png', 'c/linked/b.png']);
  });
});
