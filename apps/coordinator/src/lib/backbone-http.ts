import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRange } from './range';
import { sendError } from './http-util';

export interface BackboneFiles {
  sha256: string;
  configBytes: Buffer;
  configSha256: string;
  weightsPath: string;
  weightsSize: number;
}

export function backboneFiles(sha256: string, configJson: string, weightsPath: string, weightsSize: number): BackboneFiles {
  const configBytes = Buffer.from(configJson, 'utf8');
  return { sha256, configBytes, configSha256: createHash('sha256').update(configBytes).digest('hex'), weightsPath, weightsSize };
}

export const backbonePaths = (sha256: string) => ({
  config: `/backbone/${sha256}/config.json`,
  weights: `/backbone/${sha256}/model.safetensors`,
});

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Serves the two content-addressed backbone files with ETag, Range and immutable caching. */
export function serveBackbone(
  files: BackboneFiles,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  onBody: (bytes: number) => void = () => undefined,
): void {
  const paths = backbonePaths(files.sha256);
  const isConfig = path === paths.config;
  if (!isConfig && path !== paths.weights) return sendError(res, 404, 'NOT_FOUND', `no backbone file at ${path}; this coordinator serves ${paths.weights}`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendError(res, 405, 'MALFORMED', `backbone files answer GET and HEAD but got ${req.method}`, { Allow: 'GET, HEAD' });
  }
  const etag = `"${isConfig ? files.configSha256 : files.sha256}"`;
  const size = isConfig ? files.configBytes.byteLength : files.weightsSize;
  const common = {
    ETag: etag,
    'Cache-Control': IMMUTABLE,
    'Accept-Ranges': 'bytes',
    'Content-Type': isConfig ? 'application/json' : 'application/octet-stream',
  };
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': IMMUTABLE });
    return void res.end();
  }
  // If-Range with another validator means "the file changed": send it whole
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? ({ kind: 'whole' } as const) : parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...common, 'Content-Range': `bytes */${size}` });
    return void res.end();
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : size - 1;
  const headers: Record<string, string | number> = { ...common, 'Content-Length': Math.max(0, end - start + 1) };
  if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) return void res.end();
  onBody(end - start + 1);
  if (isConfig) return void res.end(files.configBytes.subarray(start, end + 1));
  const stream = createReadStream(files.weightsPath, { start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
