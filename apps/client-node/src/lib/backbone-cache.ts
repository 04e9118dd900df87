import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate, unlink } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { BackboneDownloadError, BackboneHashError, ClientError, type BackboneCache, type BackboneProgress } from '@fedsnell/client';
import { sha256File } from '@fedsnell/tensor-io/node';

export interface FetchBackboneOptions {
  /** absolute URL of model.safetensors */
  url: string;
  sha256: string;
  /** expected size, from the task */
  bytes: number;
  cacheDir: string;
  headers?: Record<string, string>;
  onProgress?: (progress: BackboneProgress) => void;
  signal?: AbortSignal;
}

export interface FetchedBackbone {
  path: string;
  /** true when no byte was downloaded */
  cached: boolean;
  /** bytes fetched over HTTP in this call (less than the size when a partial file was resumed) */
  downloadedBytes: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** `<cacheDir>/<sha256>/model.safetensors`: content-addressed, so a hit needs no server. */
export function backbonePath(cacheDir: string, sha256: string): string {
  return join(cacheDir, sha256, 'model.safetensors');
}

/**
 * Returns a local, sha256-verified copy of a backbone. Reuses the cache when its hash matches;
 * otherwise streams into `model.safetensors.partial`, resuming with `Range` from whatever a previous
 * attempt left, and renames only after the whole file hashes right, so the final name never holds
 * unverified bytes. A mismatch deletes the partial file and throws.
 */
export async function fetchBackbone(options: FetchBackboneOptions): Promise<FetchedBackbone> {
  const { url, sha256, bytes, cacheDir, onProgress, signal } = options;
  if (!SHA256.test(sha256)) throw new ClientError('BAD_ANSWER', `sha256 passed to fetchBackbone() must be 64 lowercase hex characters but got '${sha256}'`);
  const path = backbonePath(cacheDir, sha256);
  await mkdir(join(cacheDir, sha256), { recursive: true });
  if (await sizeOf(path) !== undefined) {
    onProgress?.({ phase: 'verify', receivedBytes: bytes, totalBytes: bytes });
    if ((await sha256File(path)) === sha256) {
      onProgress?.({ phase: 'cached', receivedBytes: bytes, totalBytes: bytes });
      return { path, cached: true, downloadedBytes: 0 };
    }
    // a corrupted cache entry is worth one fresh download, not a dead client
    await unlink(path);
  }
  const partial = `${path}.partial`;
  let offset = (await sizeOf(partial)) ?? 0;
  if (offset > bytes) {
    await truncate(partial, 0);
    offset = 0;
  }
  const downloaded = offset < bytes ? await download(url, partial, offset, bytes, options) : 0;
  onProgress?.({ phase: 'verify', receivedBytes: bytes, totalBytes: bytes });
  signal?.throwIfAborted();
  const actual = await sha256File(partial);
  if (actual !== sha256) {
    await unlink(partial).catch(() => undefined);
    throw new BackboneHashError(url, sha256, actual);
  }
  await rename(partial, path);
  return { path, cached: false, downloadedBytes: downloaded };
}

async function sizeOf(path: string): Promise<number | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ? s.size : undefined;
}

/** Streams the body into `file` from `offset` (Range) or from 0 (when the server sends the whole file). */
async function download(url: string, file: string, offset: number, total: number, options: FetchBackboneOptions): Promise<number> {
  const headers: Record<string, string> = { ...options.headers };
  if (offset > 0) headers['Range'] = `bytes=${offset}-`;
  const response = await request(url, headers, options.signal);
  const status = response.statusCode ?? 0;
  if (status === 416 && offset > 0) {
    // the partial file is no prefix of this backbone: start over without a range
    response.resume();
    await truncate(file, 0);
    return download(url, file, 0, total, options);
  }
  if (status !== 200 && status !== 206) {
    response.resume();
    throw new BackboneDownloadError(`GET ${url} answered ${status} ${response.statusMessage ?? ''}`.trim());
  }
  const start = status === 206 ? offset : 0;
  let received = start;
  const out = createWriteStream(file, start > 0 ? { flags: 'a' } : { flags: 'w' });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        response.destroy();
        reject(error);
      };
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > total) return fail(new BackboneDownloadError(`GET ${url} sent more than the task's ${total} bytes`));
        if (!out.write(chunk)) {
          response.pause();
          out.once('drain', () => response.resume());
        }
        options.onProgress?.({ phase: 'download', receivedBytes: received, totalBytes: total });
      });
      response.on('error', fail);
      response.on('aborted', () => fail(new BackboneDownloadError(`GET ${url} was cut off after ${received} of ${total} bytes`)));
      response.on('end', () => (received === total ? resolve() : reject(new BackboneDownloadError(`GET ${url} ended after ${received} of ${total} bytes`))));
      out.on('error', fail);
    });
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return received - start;
}

function request(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new BackboneDownloadError(`'${url}' is not an absolute URL`));
    }
    const get = parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : undefined;
    if (!get) return reject(new BackboneDownloadError(`'${url}' must be http: or https:`));
    const req = get(parsed, { headers, signal }, resolve);
    req.on('error', (error: Error) => reject(new BackboneDownloadError(`GET ${url} failed: ${error.message}`)));
  });
}

/** Deletes the partial download of `sha256` (a verified `model.safetensors` stays). */
export async function discardPartial(cacheDir: string, sha256: string): Promise<void> {
  if (!SHA256.test(sha256)) return;
  await rm(`${backbonePath(cacheDir, sha256)}.partial`, { force: true });
}

/** The Node backbone cache: `<cacheDir>/<sha256>/model.safetensors`, read into memory once verified. */
export function nodeBackboneCache(cacheDir: string): BackboneCache {
  return {
    async fetch(request) {
      const fetched = await fetchBackbone({ ...request, cacheDir });
      return { bytes: await readFile(fetched.path), cached: fetched.cached, downloadedBytes: fetched.downloadedBytes, location: fetched.path };
    },
    discard: (sha256) => discardPartial(cacheDir, sha256),
  };
}
