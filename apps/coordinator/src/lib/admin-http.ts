import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, tokenMatches } from './auth';
import { requestUrl, sendError, sendJson } from './http-util';

/** What the admin API reads and does; the coordinator supplies it. */
export interface AdminApi {
  adminToken: string;
  status(): unknown;
  rounds(): unknown;
  clients(): unknown;
  start(): unknown;
  pause(): unknown;
  /** Adapter bytes after `round` (latest when undefined), or null when there is none. */
  adapter(round: number | undefined): Promise<{ round: number; bytes: Uint8Array } | null>;
  metrics(): string;
  /** `GET /api/events`: the live monitor stream (server-sent events). */
  events(req: IncomingMessage, res: ServerResponse): void;
  onAuthFailure(): void;
}

const ROUTES: Record<string, string> = {
  '/api/status': 'GET',
  '/api/rounds': 'GET',
  '/api/clients': 'GET',
  '/api/start': 'POST',
  '/api/pause': 'POST',
  '/api/adapter': 'GET',
  '/api/events': 'GET',
  '/metrics': 'GET',
};

export function isAdminPath(path: string): boolean {
  return path in ROUTES;
}

export async function serveAdmin(api: AdminApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  const path = url.pathname;
  const token = bearerToken(req.headers.authorization);
  if (token === null || !tokenMatches(token, [api.adminToken])) {
    api.onAuthFailure();
    return sendError(res, 401, 'UNAUTHORIZED', `${path} needs Authorization: Bearer <admin token>`, { 'WWW-Authenticate': 'Bearer' });
  }
  const method = ROUTES[path];
  if (req.method !== method) return sendError(res, 405, 'MALFORMED', `${path} answers ${method} but got ${req.method}`, { Allow: method });
  switch (path) {
    case '/api/status':
      return sendJson(res, 200, api.status());
    case '/api/rounds':
      return sendJson(res, 200, api.rounds());
    case '/api/clients':
      return sendJson(res, 200, api.clients());
    case '/api/start':
      return sendJson(res, 200, api.start());
    case '/api/pause':
      return sendJson(res, 200, api.pause());
    case '/api/events':
      return api.events(req, res);
    case '/metrics': {
      const text = api.metrics();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      return void res.end(text);
    }
    case '/api/adapter': {
      const param = url.searchParams.get('round');
      if (param !== null && !/^\d{1,9}$/.test(param)) {
        return sendError(res, 400, 'MALFORMED', `round must be a non-negative integer but got ${JSON.stringify(param)}`);
      }
      const found = await api.adapter(param === null ? undefined : Number(param));
      if (!found) return sendError(res, 404, 'NOT_FOUND', param === null ? 'no round has completed yet' : `no adapter for round ${param}`);
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': found.bytes.byteLength,
        'Content-Disposition': `attachment; filename="adapter-round-${found.round}.safetensors"`,
      });
      return void res.end(found.bytes);
    }
  }
}
