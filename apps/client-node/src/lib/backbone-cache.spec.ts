import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveBytes } from '@fedsnell/client/testing';
import type { BackboneProgress } from '@fedsnell/client';
import { backbonePath, discardPartial, fetchBackbone, nodeBackboneCache } from './backbone-cache';

describe('fetchBackbone', () => {
  const blob = randomBytes(20_000);
  const sha256 = createHash('sha256').update(blob).digest('hex');
  let served: Uint8Array = blob;
  let status = 200;
  /** serve only this many bytes, then cut the connection */
  let cutAfter: number | undefined;
  const ranges: (string | undefined)[] = [];
  let server: Server;
  let url: string;
  let cacheDir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      ranges.push(req.headers.range);
      if (status !== 200) {
        res.writeHead(status);
        return void res.end();
      }
      if (cutAfter !== undefined) {
        res.writeHead(200, { 'Content-Length': served.length });
        return void res.write(served.subarray(0, cutAfter), () => res.destroy());
      }
      serveBytes(served, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backbone/${sha256}/model.safetensors`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    served = blob;
    status = 200;
    cutAfter = undefined;
    ranges.length = 0;
    cacheDir = mkdtempSync(join(tmpdir(), 'fedsnell-cache-'));
  });

  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('downloads and verifies into <cache>/<sha256>/model.safetensors', async () => {
    const got = await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir });
    expect([got.path, got.cached, got.downloadedBytes]).toEqual([join(cacheDir, sha256, 'model.safetensors'), false, 20_000]);
    expect(Buffer.compare(readFileSync(got.path), blob)).toBe(0);
  });

  it('reuses a verified cache without a request', async () => {
    await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir });
    ranges.length = 0;
    const got = await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir });
    expect([got.cached, ranges.length]).toEqual([true, 0]);
  });

  it('resumes a partial file with Range', async () => {
    mkdirSync(join(cacheDir, sha256), { recursive: true });
    writeFileSync(`${backbonePath(cacheDir, sha256)}.partial`, blob.subarray(0, 5000));
    const got = await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir });
    expect([ranges, got.downloadedBytes]).toEqual([['bytes=5000-'], 15_000]);
    expect(Buffer.compare(readFileSync(got.path), blob)).toBe(0);
  });

  it('reports download progress up to the size', async () => {
    const events: BackboneProgress[] = [];
    await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir, onProgress: (p) => events.push(p) });
    const last = events.filter((e) => e.phase === 'download').pop();
    expect(last).toEqual({ phase: 'download', receivedBytes: 20_000, totalBytes: 20_000 });
  });

  it('deletes a download whose hash differs and throws', async () => {
    served = randomBytes(20_000);
    await expect(fetchBackbone({ url, sha256, bytes: blob.length, cacheDir })).rejects.toThrow(`must have sha256 ${sha256} but the download hashes to`);
    expect([existsSync(backbonePath(cacheDir, sha256)), existsSync(`${backbonePath(cacheDir, sha256)}.partial`)]).toEqual([false, false]);
  });

  it('replaces a corrupted cache entry', async () => {
    mkdirSync(join(cacheDir, sha256), { recursive: true });
    writeFileSync(backbonePath(cacheDir, sha256), randomBytes(20_000));
    const got = await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir });
    expect([got.cached, Buffer.compare(readFileSync(got.path), blob)]).toEqual([false, 0]);
  });

  it('names the status of a failed request', async () => {
    status = 404;
    await expect(fetchBackbone({ url, sha256, bytes: blob.length, cacheDir })).rejects.toThrow(`GET ${url} answered 404`);
  });

  it('throws a retryable error when cut off, and discardPartial removes what it left', async () => {
    cutAfter = 7000;
    const error = await fetchBackbone({ url, sha256, bytes: blob.length, cacheDir }).catch((e: unknown) => e);
    expect(error).toEqual(expect.objectContaining({ code: 'BACKBONE_DOWNLOAD', retryable: true }));
    const partial = `${backbonePath(cacheDir, sha256)}.partial`;
    expect(existsSync(partial)).toBe(true);
    await discardPartial(cacheDir, sha256);
    expect(existsSync(partial)).toBe(false);
  });

  it('hands the core the verified bytes (nodeBackboneCache)', async () => {
    const got = await nodeBackboneCache(cacheDir).fetch({ url, sha256, bytes: blob.length, headers: {}, signal: new AbortController().signal, onProgress: () => undefined });
    expect([Buffer.compare(got.bytes, blob), got.location]).toEqual([0, backbonePath(cacheDir, sha256)]);
  });
});
