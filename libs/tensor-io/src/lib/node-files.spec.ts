import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError } from './errors';
import { readSafetensorsFile, sha256File, writeFileAtomic } from './node-files';
import { serializeSafetensors } from './serialize-safetensors';
import { sha256Hex } from '@fedsnell/util';

const FIXTURE = `${process.env['FEDSNELL_FIXTURE_DIR']}/model.safetensors`;

describe('node file helpers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tensor-io-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the timm fixture', async () => {
    const { tensors, metadata } = await readSafetensorsFile(FIXTURE);

    expect(tensors.get('blocks.0.attn.qkv.weight')?.shape).toEqual([96, 32]);
    expect(tensors.get('patch_embed.proj.weight')?.shape).toEqual([32, 3, 4, 4]);
    expect(tensors.get('blocks.0.attn.qkv.weight')?.data.length).toBe(96 * 32);
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('names a missing file', async () => {
    const path = join(dir, 'nope.safetensors');

    await expect(readSafetensorsFile(path)).rejects.toThrow(`readSafetensorsFile(): no such file '${path}'`);
  });

  it('names the file in a format error', async () => {
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, new Uint8Array(3));

    await expect(readSafetensorsFile(path)).rejects.toThrow(
      new SafetensorsError(`readSafetensorsFile('${path}')`, 'file has 3 bytes, shorter than the 8-byte header length'),
    );
  });

  it('writes a file atomically and leaves no temp file', async () => {
    const path = join(dir, 'adapter.safetensors');
    const bytes = serializeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });

    await writeFileAtomic(path, bytes);

    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['adapter.safetensors']);
  });

  it('replaces an existing file', async () => {
    const path = join(dir, 'state.bin');
    writeFileSync(path, 'old contents, longer than the new');

    await writeFileAtomic(path, new TextEncoder().encode('new'));

    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  it('fails on a missing folder without leaving anything', async () => {
    const path = join(dir, 'missing', 'x.bin');

    await expect(writeFileAtomic(path, new Uint8Array(1))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('hashes a file like sha256Hex hashes its bytes', async () => {
    const path = join(dir, 'blob.bin');
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
    writeFileSync(path, bytes);

    expect(await sha256File(path)).toBe(await sha256Hex(bytes));
  });

  it('hashes "abc" to the FIPS 180-2 vector', async () => {
    const path = join(dir, 'abc.txt');
    writeFileSync(path, 'abc');

    expect(await sha256File(path)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('names a missing file when hashing', async () => {
    const path = join(dir, 'gone.bin');

    await expect(sha256File(path)).rejects.toThrow(`sha256File(): no such file '${path}'`);
  });
});
