import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@fedsnell/protocol';
import { errorMessage } from '@fedsnell/util';
import { isAdminPath, serveAdmin, type AdminApi } from './admin-http';
import { bearerToken, tokenMatches } from './auth';
import { serveBackbone, type BackboneFiles } from './backbone-http';
import { requestUrl, sendError } from './http-util';
import type { Logger } from './options';
import type { Pages } from './pages-http';

export interface HttpRoutes {
  backbone: BackboneFiles;
  /** Tokens one of which a backbone request must carry as a bearer token; null: the backbone is public. */
  backboneTokens: readonly string[] | null;
  admin: AdminApi;
  pages: Pages;
  logger: Logger;
  /** A request carried no valid token. */
  onAuthFailure(): void;
  /** Backbone body bytes sent. */
  onBackboneBytes(bytes: number): void;
}

/**
 * The coordinator's HTTP side as one request handler: `/backbone/…` (optionally behind the client
 * tokens), the admin API, the browser pages, and a JSON 404 for anything else. A handler that
 * throws is answered 500 (or its response cut) and logged in one line.
 */
export function createHttpRouter(routes: HttpRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestUrl(req).pathname;
    if (path.startsWith('/backbone/')) {
      if (routes.backboneTokens) {
        const token = bearerToken(req.headers.authorization);
        if (token === null || !tokenMatches(token, routes.backboneTokens)) {
          routes.onAuthFailure();
          return sendHttpError(res, 401, 'UNAUTHORIZED', 'backbone files need Authorization: Bearer <client token>');
        }
      }
      return serveBackbone(routes.backbone, path, req, res, routes.onBackboneBytes);
    }
    if (isAdminPath(path)) return serveAdmin(routes.admin, req, res);
    if (routes.pages.matches(path)) return routes.pages.serve(req, res);
    sendHttpError(res, 404, 'NOT_FOUND', `no route ${path}`);
  }
  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      routes.logger.error('http handler failed', { path: req.url ?? '', reason: errorMessage(error) });
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  };
}

function sendHttpError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendError(res, status, code, message, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
}
