import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPages } from './pages-http';
import { silentLogger } from './options';

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-pages-'));
  await mkdir(join(dir, 'dashboard'), { recursive: true });
  await writeFile(join(dir, 'dashboard', 'index.html'), '<!doctype html><title>d</title>');
  await writeFile(join(dir, 'dashboard', 'main.js'), 'export {};');
  await writeFile(join(dir, 'secret.txt'), 'outside the page folder');
  // an explicit folder: nothing is built, a missing page is reported
  const pages = createPages(silentLogger, dir);
  server = createServer((req, res) => {
    if (pages.matches(new URL(req.url ?? '/', 'http://x').pathname)) void pages.serve(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('pages', () => {
  it('serves a page and its assets cross-origin isolated, with their content types', async () => {
    for (const [path, type] of [['/dashboard/', 'text/html; charset=utf-8'], ['/dashboard/main.js', 'text/javascript; charset=utf-8']]) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
  });

  it('redirects to the trailing slash so that relative assets resolve', async () => {
    const res = await fetch(`${base}/dashboard`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/dashboard/');
  });

  it('never serves a file outside the page folder', async () => {
    for (const path of ['/dashboard/../secret.txt', '/dashboard/%2e%2e/secret.txt', '/dashboard/..%2fsecret.txt', '/dashboard/nope.js']) {
      const res = await fetch(base + path);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('answers a malformed path with 400, not an internal error', async () => {
    expect((await fetch(`${base}/dashboard/%E0%A4%A`)).status).toBe(400);
  });

  it('answers a page that is not built with a 503 page that says how to build it', async () => {
    const res = await fetch(`${base}/join/`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain('/join is not built yet');
    expect(text).toContain('node tools/build-pages.cjs client-web');
  });

  it('links both pages from / and refuses other methods', async () => {
    const res = await fetch(`${base}/`);
    expect(await res.text()).toContain('href="/join/"');
    expect((await fetch(`${base}/dashboard/`, { method: 'POST' })).status).toBe(405);
  });
});
