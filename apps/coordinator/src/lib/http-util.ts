import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@fedsnell/protocol';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export function requestUrl(req: IncomingMessage): URL {
  // the host part is irrelevant (and untrusted); only path and query are read
  return new URL(req.url ?? '/', 'http://localhost');
}
