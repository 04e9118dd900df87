import { errorMessage } from '@fedsnell/util';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type { Logger } from './options';

/** The browser pages the coordinator serves, by URL prefix → folder name under the pages dir. */
const PAGES: Record<string, string> = { '/join': 'client-web', '/dashboard': 'dashboard' };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Cross-origin isolation for the pages and everything they load: SharedArrayBuffer (threaded wasm)
 * needs it; CORP lets a page embed only this origin's assets.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
});

interface PageBuilder {
  ensurePages(names?: string[]): Promise<unknown>;
}

export interface Pages {
  matches(path: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** The repository root (the folder with nx.json) above this file, or null in a packaged install. */
function repositoryRoot(): string | null {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json')) && existsSync(join(dir, 'tools', 'build-pages.cjs'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Serves `/join` (apps/client-web) and `/dashboard` (apps/dashboard) from their esbuild output
 * (`dist/apps/<name>` in the repository, `dist/pages/<name>` in the npm package, or
 * `FEDSNELL_PAGES_DIR`). In the repository, a page that is missing or older than its sources is
 * built on first request (tools/build-pages.cjs); when that cannot happen, the answer is a page that
 * says how to build it.
 */
export function createPages(logger: Logger, dir = process.env['FEDSNELL_PAGES_DIR']): Pages {
  const root = repositoryRoot();
  // in the repository: dist/apps (built on demand); in the npm package: dist/pages beside dist/cli
  const pagesDir = resolve(dir ?? (root ? join(root, 'dist', 'apps') : join(__dirname, '..', 'pages')));
  const builds = new Map<string, Promise<string | null>>();

  /** Resolves to null when the page is ready, else to why it is not. */
  function ensureBuilt(name: string): Promise<string | null> {
    let build = builds.get(name);
    if (!build) {
      build = (async () => {
        if (dir !== undefined || root === null) return existsSync(join(pagesDir, name, 'index.html')) ? null : `${join(pagesDir, name)} holds no build`;
        const started = Date.now();
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const builder = require(join(root, 'tools', 'build-pages.cjs')) as PageBuilder;
          const built = await builder.ensurePages([name]);
          if (Array.isArray(built) && built.length) logger.info('page built', { page: name, ms: Date.now() - started });
          return null;
        } catch (error) {
          const reason = errorMessage(error).split('\n')[0];
          logger.error('page build failed', { page: name, reason });
          builds.delete(name);
          return reason;
        }
      })();
      builds.set(name, build);
    }
    return build;
  }

  return {
    matches(path) {
      return path === '/' || Object.keys(PAGES).some((p) => path === p || path.startsWith(`${p}/`));
    },
    async serve(req, res) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end(`${path} answers GET\n`);
      }
      if (path === '/') return sendHtml(res, 200, LANDING);
      const prefix = Object.keys(PAGES).find((p) => path === p || path.startsWith(`${p}/`)) as string;
      // relative asset URLs need the trailing slash; the fragment (tokens) survives a redirect
      if (path === prefix) {
        res.writeHead(302, { Location: `${prefix}/`, 'Cache-Control': 'no-store' });
        return void res.end();
      }
      const name = PAGES[prefix];
      const problem = await ensureBuilt(name);
      if (problem) return sendHtml(res, 503, missingPage(prefix, name, problem));
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice(prefix.length + 1)) || 'index.html';
      } catch {
        return sendText(res, 400, `${path} is not a valid URL path`);
      }
      const base = join(pagesDir, name);
      const file = normalize(join(base, relative));
      if (!file.startsWith(base + sep) || relative.includes('\0')) return sendText(res, 404, `no file ${path}`);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) return sendText(res, 404, `no file ${path}`);
      const body = await readFile(file);
      const html = extname(file) === '.html';
      res.writeHead(200, {
        ...ISOLATION_HEADERS,
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.byteLength,
        // pages change with every build; their assets are small enough to revalidate too
        'Cache-Control': html ? 'no-store' : 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': TYPES['.html'], 'Content-Length': Buffer.byteLength(html), 'Cache-Control': 'no-store' });
  res.end(html);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) + 1 });
  res.end(`${text}\n`);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const LANDING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>fedsnell coordinator</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}</style></head>
<body><h1>fedsnell coordinator</h1><ul>
<li><a href="/join/">Join</a>: train on images from this device's folder; they never leave it.</li>
<li><a href="/dashboard/">Dashboard</a>: watch and steer the rounds (admin token).</li></ul></body></html>`;

function missingPage(prefix: string, name: string, problem: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>${prefix} is not built</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style></head>
<body><h1>${prefix} is not built yet</h1><p>The coordinator could not build this page: ${escapeHtml(problem)}</p>
<p>Build it in the repository with <code>node tools/build-pages.cjs ${name}</code> (or <code>npx nx run ${name}:build</code>) and reload.</p></body></html>`;
}
