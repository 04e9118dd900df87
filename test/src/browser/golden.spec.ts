import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flat, loadGoldens, type Golden } from '@fedsnell/snell/testing';
import { collectErrors, launchChromium, type BrowserSession } from '../testing/browser';
import { serveStatic } from '../testing/static-server';
import { buildTestPage } from '../testing/test-page';
import type { GoldenCase, GoldenErrors } from './pages/golden-page';

// The golden SNELL vectors, checked in headless Chromium on every tfjs backend a page can use there:
// WebGPU (SwiftShader), WebGL (SwiftShader through ANGLE), wasm and cpu.

const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

let dir: string;
let site: { origin: string; close(): Promise<void> };
let browser: BrowserSession;
let cases: GoldenCase[];

/** The golden file's values, flat (files without gradients are checked on the forward pass only). */
function caseOf(g: Golden): GoldenCase {
  return {
    name: g.name, heads: g.heads, rank: g.rank, in: g.in, out: g.out, p: g.p, scale: g.scale, sparsity: g.sparsity,
    A: flat(g.A), B: flat(g.B), x: flat(g.x), G: flat(g.G), deltaW: flat(g.deltaW), y: flat(g.y), kept: g.kept,
    gradA: g.gradA ? flat(g.gradA) : null, gradB: g.gradB ? flat(g.gradB) : null,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-golden-page-'));
  await buildTestPage(join(__dirname, 'pages/golden-page.ts'), dir, 'golden');
  site = await serveStatic(dir, '/golden/');
  browser = await launchChromium();
  cases = loadGoldens().map(caseOf);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await rm(dir, { recursive: true, force: true });
});

it('finds the golden vectors, sparse and dense, with gradients', () => {
  expect(cases.length).toBeGreaterThanOrEqual(3);
  expect(cases.some((c) => c.sparsity === 0)).toBe(true);
  expect(cases.filter((c) => c.gradA).length).toBeGreaterThanOrEqual(2);
});

it.each(BACKENDS)('the golden vectors pass in Chromium on %s', async (backend) => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${site.origin}/golden/`);
  await page.waitForFunction(() => 'runGolden' in window);
  const results = await page.evaluate(
    ([b, c]) => {
      const runGolden: (b: string, c: GoldenCase[]) => Promise<GoldenErrors[]> = Reflect.get(window, 'runGolden');
      return runGolden(b, c);
    },
    [backend, cases] as const,
  );
  expect(results.map((r) => r.backend)).toEqual(cases.map(() => backend));
  for (const [i, r] of results.entries()) {
    expect({ name: r.name, kept: r.kept }).toEqual({ name: cases[i].name, kept: cases[i].kept });
    expect(r.deltaW).toBeLessThan(1e-5);
    expect(r.y).toBeLessThan(1e-4);
    if (cases[i].gradA) {
      expect(r.gradA).toBeLessThan(1e-4);
      expect(r.gradB).toBeLessThan(1e-4);
    }
  }
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
