import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminApi } from './admin-http';
import { backboneFiles, backbonePaths } from './backbone-http';
import { createHttpRouter, type HttpRoutes } from './http-router';
import type { Logger } from './options';
import type { Pages } from './pages-http';

const SHA = 'a'.repeat(64);

describe('createHttpRouter', () => {
  let server: Server;
  let base: string;
  let authFailures: number;
  let backboneBytes: number;
  let errors: string[];

  const admin: AdminApi = {
    adminToken: 'admin-token',
    status: () => ({ state: 'idle' }),
    rounds: () => ({ rounds: [] }),
    clients: () => ({ clients: [] }),
    start: () => ({}),
    pause: () => ({}),
    adapter: async () => null,
    metrics: () => '',
    events: (_req, res) => void res.end(),
    onAuthFailure: () => authFailures++,
  };

  const pages: Pages = {
    matches: (path) => path === '/join' || path === '/broken',
    serve: async (req, res) => {
      if (req.url === '/broken') throw new Error('page build failed');
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<p>join</p>');
    },
  };

  async function listen(backboneTokens: HttpRoutes['backboneTokens']): Promise<void> {
    const logger: Logger = { info: () => undefined, warn: () => undefined, error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields)}`) };
    const router = createHttpRouter({
      backbone: backboneFiles(SHA, '{"hidden_size":8}', '/nonexistent/model.safetensors', 4),
      backboneTokens,
      admin,
      pages,
      logger,
      onAuthFailure: () => authFailures++,
      onBackboneBytes: (bytes) => (backboneBytes += bytes),
    });
    server = createServer(router);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeEach(() => {
    authFailures = 0;
    backboneBytes = 0;
    errors = [];
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers an unknown path with a JSON 404', async () => {
    await listen(null);
    const res = await fetch(`${base}/nowhere`);
    expect([res.status, await res.json()]).toEqual([404, { error: { code: 'NOT_FOUND', message: 'no route /nowhere' } }]);
  });

  it('serves the backbone to anyone when it is public, counting the bytes', async () => {
    await listen(null);
    const res = await fetch(`${base}${backbonePaths(SHA).config}`);
    expect([res.status, await res.text(), backboneBytes]).toEqual([200, '{"hidden_size":8}', 17]);
  });

  it('asks for a client token when the backbone is protected', async () => {
    await listen(['client-token']);
    const refused = await fetch(`${base}${backbonePaths(SHA).config}`, { headers: { Authorization: 'Bearer wrong' } });
    const served = await fetch(`${base}${backbonePaths(SHA).config}`, { headers: { Authorization: 'Bearer client-token' } });
    expect([refused.status, refused.headers.get('www-authenticate'), ((await refused.json()) as { error: { code: string } }).error.code, served.status, authFailures]).toEqual([
      401, 'Bearer', 'UNAUTHORIZED', 200, 1,
    ]);
  });

  it('hands admin paths to the admin API and pages to the pages', async () => {
    await listen(null);
    const status = await fetch(`${base}/api/status`, { headers: { Authorization: 'Bearer admin-token' } });
    const page = await fetch(`${base}/join`);
    expect([status.status, await status.json(), page.status, await page.text()]).toEqual([200, { state: 'idle' }, 200, '<p>join</p>']);
  });

  it('answers 500 and logs one line when a handler throws', async () => {
    await listen(null);
    const res = await fetch(`${base}/broken`);
    expect([res.status, await res.json(), errors]).toEqual([
      500, { error: { code: 'INTERNAL', message: 'internal error' } }, ['http handler failed {"path":"/broken","reason":"page build failed"}'],
    ]);
  });
});
