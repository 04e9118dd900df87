import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO } from './run-cli';

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * Writes a one-script test page into `dir`: `entry` bundled for the browser as page.js, an index.html
 * that loads it, and tfjs's wasm binaries under wasm/ (serve it with serveStatic).
 */
export async function buildTestPage(entry: string, dir: string, title: string): Promise<void> {
  await build({
    absWorkingDir: REPO,
    entryPoints: [entry],
    outfile: join(dir, 'page.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    tsconfig: join(REPO, 'tsconfig.base.json'),
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    external: ['node:*', 'webgpu', 'worker_threads', 'fs', 'path', 'os', 'crypto', 'util'],
    logLevel: 'silent',
  });
  await writeFile(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title><script type="module" src="page.js"></script>`,
  );
  await mkdir(join(dir, 'wasm'));
  for (const f of WASM_FILES) await copyFile(join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join(dir, 'wasm', f));
}
