#!/usr/bin/env node
// Builds the browser pages (apps/dashboard, apps/client-web) with esbuild into dist/apps/<name>.
// Used by each app's Nx `build` target, by the coordinator when a page is requested before it was
// built, and by the browser tests. Each app is written to a temporary folder and renamed into place,
// so a server never sees a half-written build.
//   node tools/build-pages.cjs [dashboard] [client-web] [--out DIR] [--json]
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..');

const APPS = {
  dashboard: {
    entries: { main: 'apps/dashboard/src/main.ts' },
    files: ['apps/dashboard/src/index.html', 'apps/dashboard/src/style.css', ['node_modules/uplot/dist/uPlot.min.css', 'uplot.css']],
  },
  'client-web': {
    entries: { main: 'apps/client-web/src/main.ts', worker: 'apps/client-web/src/worker.ts' },
    files: [
      'apps/client-web/src/index.html',
      'apps/client-web/src/style.css',
      ...['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].map((f) => [
        `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`,
        `wasm/${f}`,
      ]),
    ],
  },
};

/** The newest modification time under the app's sources and the libraries it bundles. */
function sourcesNewerThan(time) {
  const dirs = ['apps/dashboard/src', 'apps/client-web/src', 'libs', 'protocol/src'];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (walk(full)) return true;
      } else if (fs.statSync(full).mtimeMs > time) return true;
    }
    return false;
  };
  return dirs.some((d) => fs.existsSync(path.join(ROOT, d)) && walk(path.join(ROOT, d)));
}

/** Whether `dist/apps/<name>` holds a complete build (its index.html is written last). */
function isBuilt(name, outDir = path.join(ROOT, 'dist/apps')) {
  return fs.existsSync(path.join(outDir, name, 'index.html'));
}

/**
 * A project file `x.ts` with a sibling `x.browser.ts` is built from the sibling (as package.json's
 * `browser` field does for packages): Node-only platform code stays out of the pages.
 */
const browserTwins = {
  name: 'browser-twins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(path.join(ROOT, 'libs')) && !args.importer.startsWith(path.join(ROOT, 'apps'))) return undefined;
      const twin = path.resolve(args.resolveDir, `${args.path}.browser.ts`);
      return fs.existsSync(twin) ? { path: twin } : undefined;
    });
  },
};

async function buildApp(name, outDir) {
  const app = APPS[name];
  if (!app) throw new Error(`app must be one of ${Object.keys(APPS).join(', ')} but got '${name}'`);
  const esbuild = require('esbuild');
  const final = path.join(outDir, name);
  const temp = `${final}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(app.entries).map(([out, input]) => ({ in: input, out })),
    outdir: temp,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome113'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    tsconfig: path.join(ROOT, 'tsconfig.base.json'),
    alias: { '@tensorflow/tfjs': path.join(ROOT, 'tools', 'tfjs-pages.mjs') },
    plugins: [browserTwins],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    // Node-only branches of universal libraries (required lazily behind an isNode check) never run here
    external: ['node:*', 'webgpu', 'worker_threads', 'fs', 'path', 'os', 'crypto', 'util'],
    logLevel: 'silent',
    legalComments: 'none',
  });
  for (const entry of app.files) {
    const [from, to] = Array.isArray(entry) ? entry : [entry, path.basename(entry)];
    const target = path.join(temp, to);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(ROOT, from), target);
  }
  const sizes = {};
  for (const file of fs.readdirSync(temp)) {
    const full = path.join(temp, file);
    if (!fs.statSync(full).isFile() || file.endsWith('.map')) continue;
    const bytes = fs.readFileSync(full);
    sizes[file] = { bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
  }
  const nodeImports = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external)
    .map((i) => i.path);
  // two builds at once (parallel test workers) may both get here: the last rename wins
  for (let attempt = 0; ; attempt++) {
    fs.rmSync(final, { recursive: true, force: true });
    try {
      fs.renameSync(temp, final);
      break;
    } catch (error) {
      if (attempt >= 3 || (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST')) throw error;
    }
  }
  return { app: name, dir: path.relative(ROOT, final), sizes, externalImports: [...new Set(nodeImports)].sort() };
}

/** Builds the named apps (default: both) into `outDir` (default dist/apps). */
async function buildPages(names = Object.keys(APPS), outDir = path.join(ROOT, 'dist/apps')) {
  const results = [];
  for (const name of names) results.push(await buildApp(name, outDir));
  return results;
}

/** Builds the apps that are missing or older than their sources. */
async function ensurePages(names = Object.keys(APPS), outDir = path.join(ROOT, 'dist/apps')) {
  const stale = names.filter((n) => {
    if (!isBuilt(n, outDir)) return true;
    return sourcesNewerThan(fs.statSync(path.join(outDir, n, 'index.html')).mtimeMs);
  });
  return stale.length ? buildPages(stale, outDir) : [];
}

module.exports = { APPS, buildPages, ensurePages, isBuilt, ROOT };

if (require.main === module) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const outAt = args.indexOf('--out');
  const outDir = outAt >= 0 ? path.resolve(args[outAt + 1]) : path.join(ROOT, 'dist/apps');
  const names = args.filter((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1));
  buildPages(names.length ? names : undefined, outDir).then(
    (results) => {
      if (json) console.log(JSON.stringify(results, null, 1));
      else {
        for (const r of results) {
          const total = Object.values(r.sizes).reduce((s, f) => s + (f.gzip ?? 0), 0);
          console.log(`built ${r.dir}: ${Object.keys(r.sizes).length} files, ${(total / 1024).toFixed(1)} KiB gzip`);
        }
      }
    },
    (error) => {
      console.error(`build-pages: ${error.message.split('\n')[0]}`);
      if (error.errors) for (const e of error.errors.slice(0, 10)) console.error(`  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
      process.exit(1);
    },
  );
}
