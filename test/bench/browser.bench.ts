import { errorMessage } from '@fedsnell/util';
// Browser numbers: SNELL training step time in headless Chromium on WebGPU (SwiftShader here), wasm
// with and without threads, beside Node's wasm on the same config; the WebGPU adapter Chromium
// reports; gzip sizes of the two pages. Prints one JSON object on stdout, progress on stderr.
//   npx tsx --tsconfig tsconfig.base.json test/bench/browser.bench.ts [--quick] [--configs a,b] [--steps N] [--timeout-s N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@fedsnell/backends';
import { launchChromium } from '../src/testing/browser';
import { REPO } from '../src/testing/run-cli';
import { serveStatic } from '../src/testing/static-server';
import { buildTestPage } from '../src/testing/test-page';
import type { BenchAnswer, BenchRequest } from './browser/bench-page';
import { DEMO, VIT_TI } from './lib/random-backbone';
import { TEST_TINY, timeTraining, type TrainTiming } from './lib/train-timing';

const log = (message: string) => process.stderr.write(`${message}\n`);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const BATCH: Record<string, number> = { [TEST_TINY.name]: 8, [DEMO.name]: 8, [VIT_TI.name]: 1 };
const SPECS = { [TEST_TINY.name]: TEST_TINY, [DEMO.name]: DEMO, [VIT_TI.name]: VIT_TI };
const configs = (flag('--configs') ?? (quick ? TEST_TINY.name : `${TEST_TINY.name},${VIT_TI.name}`)).split(',');
const steps = Number(flag('--steps') ?? (quick ? 3 : 4));
const timeoutMs = Number(flag('--timeout-s') ?? 300) * 1000;
const VARIANTS: Array<{ name: string; backend: BenchRequest['backend']; threads: boolean }> = [
  { name: 'webgpu', backend: 'webgpu', threads: true },
  { name: 'wasm-threads', backend: 'wasm', threads: true },
  { name: 'wasm-1-thread', backend: 'wasm', threads: false },
];

async function bundleSizes(): Promise<unknown> {
  const out = await mkdtemp(join(tmpdir(), 'fedsnell-pages-'));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const builder = require(join(REPO, 'tools/build-pages.cjs')) as { buildPages(names?: string[], outDir?: string): Promise<Array<{ app: string; sizes: Record<string, { bytes: number; gzip: number }> }>> };
    const results = await builder.buildPages(undefined, out);
    return Object.fromEntries(
      results.map((r) => {
        const js = Object.entries(r.sizes).filter(([f]) => f.endsWith('.js'));
        return [r.app, { files: r.sizes, jsBytes: js.reduce((s, [, v]) => s + v.bytes, 0), jsGzip: js.reduce((s, [, v]) => s + v.gzip, 0) }];
      }),
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const c of configs) if (!(c in SPECS)) throw new Error(`--configs must name ${Object.keys(SPECS).join(', ')} but got ${c}`);
  const dir = await mkdtemp(join(tmpdir(), 'fedsnell-bench-page-'));
  const result: Record<string, unknown> = { machine: 'shared 2-core CPU, no GPU (WebGPU = SwiftShader)', steps, configs: {} };
  await buildTestPage(join(__dirname, 'browser/bench-page.ts'), dir, 'bench');
  const site = await serveStatic(dir, '/bench/');
  const browser = await launchChromium();
  try {
    const probe = await browser.context.newPage();
    await probe.goto(`${site.origin}/bench/`);
    await probe.waitForFunction(() => 'adapter' in window);
    result['webgpuAdapter'] = await probe.evaluate(() => {
      const adapter: () => Promise<unknown> = Reflect.get(window, 'adapter');
      return adapter();
    });
    result['crossOriginIsolated'] = await probe.evaluate(() => crossOriginIsolated);
    await probe.close();
    for (const config of configs) {
      const rows: Record<string, unknown> = {};
      const batch = BATCH[config];
      for (const v of VARIANTS) {
        log(`browser ${config} ${v.name} batch ${batch}…`);
        const page = await browser.context.newPage();
        try {
          await page.goto(`${site.origin}/bench/`);
          await page.waitForFunction(() => 'bench' in window);
          const request: BenchRequest = { backend: v.backend, threads: v.threads, config, batch, steps };
          const answer = await Promise.race([
            page.evaluate((r) => {
              const bench: (r: BenchRequest) => Promise<BenchAnswer> = Reflect.get(window, 'bench');
              return bench(r);
            }, request),
            new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs)),
          ]);
          rows[`browser-${v.name}`] = answer;
        } catch (error) {
          rows[`browser-${v.name}`] = { error: errorMessage(error).split('\n')[0] };
        } finally {
          await page.close().catch(() => undefined);
        }
      }
      log(`node ${config} wasm batch ${batch}…`);
      await useBackend('wasm');
      const node: TrainTiming = await timeTraining(SPECS[config], { batch, steps });
      rows['node-wasm'] = node;
      (result['configs'] as Record<string, unknown>)[config] = rows;
    }
  } finally {
    await browser.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  }
  log('bundle sizes…');
  result['bundles'] = await bundleSizes();
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

main().catch((error: Error) => {
  log(`browser bench failed: ${error.message}`);
  process.exit(1);
});
