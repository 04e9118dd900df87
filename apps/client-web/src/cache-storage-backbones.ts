import { BackboneDownloadError, BackboneHashError, type Backbone, type BackboneCache, type BackboneRequest } from '@fedsnell/client';
import { errorMessage } from '@fedsnell/util';

/** The Cache Storage bucket that holds backbones, one entry per sha256. */
export const BACKBONE_CACHE = 'fedsnell-backbones-v1';

const keyOf = (sha256: string) => `/fedsnell/backbone/${sha256}`;

/** The same bytes as a view on a plain ArrayBuffer (Web Crypto and Response take no shared memory). */
export function plainView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', plainView(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Backbones in the browser's Cache Storage, keyed by sha256. A hit is hashed again before use; an
 * entry that is corrupt or of another size is deleted and fetched anew. A download streams with
 * progress and is stored only once its hash matches.
 */
export function cacheStorageBackbones(): BackboneCache {
  return {
    async fetch(request: BackboneRequest): Promise<Backbone> {
      const cache = await caches.open(BACKBONE_CACHE);
      const key = keyOf(request.sha256);
      const hit = await cache.match(key);
      if (hit) {
        const bytes = new Uint8Array(await hit.arrayBuffer());
        request.onProgress({ phase: 'verify', receivedBytes: bytes.byteLength, totalBytes: request.bytes });
        if (bytes.byteLength === request.bytes && (await sha256Hex(bytes)) === request.sha256) {
          request.onProgress({ phase: 'cached', receivedBytes: bytes.byteLength, totalBytes: request.bytes });
          return { bytes, cached: true, downloadedBytes: 0, location: `Cache Storage ${BACKBONE_CACHE}` };
        }
        // a corrupt or truncated entry is never used: drop it and download again
        await cache.delete(key);
      }
      const bytes = await download(request);
      request.onProgress({ phase: 'verify', receivedBytes: bytes.byteLength, totalBytes: request.bytes });
      const actual = await sha256Hex(bytes);
      if (actual !== request.sha256) throw new BackboneHashError(request.url, request.sha256, actual);
      await cache.put(key, new Response(plainView(bytes), { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength) } }));
      return { bytes, cached: false, downloadedBytes: bytes.byteLength, location: `Cache Storage ${BACKBONE_CACHE}` };
    },
    async discard(sha256: string): Promise<void> {
      const cache = await caches.open(BACKBONE_CACHE);
      await cache.delete(keyOf(sha256));
    },
  };
}

async function download(request: BackboneRequest): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(request.url, { headers: request.headers, signal: request.signal, cache: 'no-store' });
  } catch (error) {
    throw new BackboneDownloadError(`cannot fetch ${request.url}: ${errorMessage(error)}`);
  }
  if (!res.ok || !res.body) throw new BackboneDownloadError(`${request.url} answered HTTP ${res.status}`);
  const bytes = new Uint8Array(request.bytes);
  let received = 0;
  const reader = res.body.getReader();
  let lastReport = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new BackboneDownloadError(`download of ${request.url} broke after ${received} bytes: ${errorMessage(error)}`);
    }
    if (chunk.done) break;
    if (received + chunk.value.byteLength > bytes.byteLength) {
      await reader.cancel();
      throw new BackboneDownloadError(`${request.url} sent more than the ${request.bytes} bytes the task declares`);
    }
    bytes.set(chunk.value, received);
    received += chunk.value.byteLength;
    const now = Date.now();
    if (now - lastReport > 100) {
      lastReport = now;
      request.onProgress({ phase: 'download', receivedBytes: received, totalBytes: request.bytes });
    }
  }
  request.onProgress({ phase: 'download', receivedBytes: received, totalBytes: request.bytes });
  if (received !== request.bytes) throw new BackboneDownloadError(`${request.url} ended after ${received} of ${request.bytes} bytes`);
  return bytes;
}
