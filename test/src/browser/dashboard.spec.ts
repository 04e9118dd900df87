import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImageFolder } from '@fedsnell/data/node';
import type { Page } from 'playwright-core';
import { collectErrors, ensurePagesBuilt, launchChromium, screenshot, type BrowserSession } from '../testing/browser';
import { FedsnellProcess, freePort } from '../testing/processes';
import { FIXTURE } from '../testing/run-cli';

const ADMIN = 'admin-dash';
const CLIENT = 'client-dash';

let dir: string;
let port: number;
let coordinator: FedsnellProcess;
const clients: FedsnellProcess[] = [];
let browser: BrowserSession;

const api = async (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-dash-'));
  await ensurePagesBuilt(['dashboard']);
  for (let k = 0; k < 2; k++) await exportImageFolder('mnist', join(dir, `client-${k}`), { perClass: 1, offset: k });
  await exportImageFolder('mnist', join(dir, 'eval'), { perClass: 1, offset: 50 });
  const task = join(dir, 'task.json');
  await writeFile(
    task,
    JSON.stringify({
      taskId: 'dash',
      snell: { rank: 4, sparsity: 0.5 },
      trainer: { epochs: 1, batchSize: 10, lr: 0.01, adapterDropout: 0, dropPath: 0 },
      rounds: { totalRounds: 2, minClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 120000, waitForClientsMs: 200 },
    }),
  );
  port = await freePort();
  coordinator = new FedsnellProcess([
    'coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--task', task, '--state', join(dir, 'state'),
    '--port', String(port), '--client-token', CLIENT, '--admin-token', ADMIN, '--backend', 'wasm',
  ]);
  await coordinator.waitFor('coordinator listening');
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const c of clients) c.kill();
  coordinator?.kill();
  await coordinator?.exited;
  await rm(dir, { recursive: true, force: true });
});

async function chartData(page: Page, id: string): Promise<{ x: number[]; series: Array<{ label: string; values: Array<number | null> }> }> {
  const text = await page.locator(`#${id}`).getAttribute('data-chart');
  return JSON.parse(text ?? '{"x":[],"series":[]}');
}

describe('dashboard (/dashboard) in headless Chromium', () => {
  it('refuses a wrong admin token with a clear message and keeps the token out of the URL', async () => {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`http://127.0.0.1:${port}/dashboard#token=wrong-token`);
    await page.locator('#login-error').filter({ hasText: 'refused this admin token' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#board').isHidden()).toBe(true);
    // the fragment is dropped from the address bar, and no request ever carries a token in its URL
    expect(page.url()).toBe(`http://127.0.0.1:${port}/dashboard/`);
    expect(requests.filter((u) => u.includes('token'))).toEqual([]);
    await page.close();
  });

  it('serves the page cross-origin isolated with the right content types', async () => {
    const page = await browser.context.newPage();
    const res = await page.goto(`http://127.0.0.1:${port}/dashboard/`);
    expect(res?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(res?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const js = await fetch(`http://127.0.0.1:${port}/dashboard/main.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await fetch(`http://127.0.0.1:${port}/dashboard/../../package.json`)).status).toBe(404);
    await page.close();
  });

  it('signs in, follows two rounds live, shows chart data, pauses/starts and downloads an adapter matching the admin API', async () => {
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(`http://127.0.0.1:${port}/dashboard/`);
    await page.fill('#token', ADMIN);
    await page.click('button[type=submit]');
    await page.locator('#link').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#task').textContent()).toContain('dash');
    expect(await page.locator('#round').textContent()).toBe('none yet');
    await page.locator('#state').filter({ hasText: 'running' }).waitFor({ timeout: 10_000 });
    await page.click('#pause');
    await page.locator('#state').filter({ hasText: 'paused' }).waitFor({ timeout: 10_000 });
    expect(((await (await api('/api/status')).json()) as { state: string }).state).toBe('paused');
    await page.click('#start');
    await page.locator('#state').filter({ hasText: 'running' }).waitFor({ timeout: 10_000 });
    // two Node clients join; the page follows without a reload
    for (let k = 0; k < 2; k++) {
      clients.push(
        new FedsnellProcess([
          'client', '--server', `http://127.0.0.1:${port}`, '--token', CLIENT, '--data', join(dir, `client-${k}`), '--client-id', `node-${k}`,
          '--backend', 'wasm', '--cache', join(dir, `cache-${k}`), '--rounds', '2',
        ]),
      );
    }
    await page.locator('#clients tr[data-client="node-1"]').waitFor({ timeout: 60_000 });
    await page.locator('#completed').filter({ hasText: '1' }).waitFor({ timeout: 120_000 });
    const accuracy = await chartData(page, 'chart-accuracy');
    expect(accuracy.x).toEqual([0]);
    expect(accuracy.series[0].values[0]).toBeGreaterThanOrEqual(0);
    const rounds = (await (await api('/api/rounds')).json()) as { rounds: Array<{ round: number; metrics: Record<string, number> }> };
    expect(accuracy.series[0].values[0]).toBeCloseTo(rounds.rounds[0].metrics['accuracy'], 10);
    const loss = await chartData(page, 'chart-loss');
    expect(loss.series[0].values[0]).toBeCloseTo(rounds.rounds[0].metrics['loss'], 10);
    const bytes = await chartData(page, 'chart-bytes');
    expect(bytes.series[0].values[0]).toBeGreaterThan(0);
    const density = await chartData(page, 'chart-density');
    expect(density.x.length).toBeGreaterThan(0);
    for (const v of density.series[0].values) expect(v).toBeCloseTo(0.5, 1);

    await page.locator('#completed').filter({ hasText: '2' }).waitFor({ timeout: 120_000 });
    expect((await chartData(page, 'chart-accuracy')).x).toEqual([0, 1]);
    expect(await page.locator('#clients tr[data-client="node-0"] .state').textContent()).toMatch(/accepted|offline|joined/);
    await page.locator('#state').filter({ hasText: 'finished' }).waitFor({ timeout: 10_000 });

    // download the adapter of round 0 and compare it with the admin API's bytes
    const download = page.waitForEvent('download');
    await page.click('#adapters button[data-round="0"]');
    const file = await (await download).path();
    const fromPage = createHash('sha256').update(await readFile(file)).digest('hex');
    const fromApi = createHash('sha256').update(Buffer.from(await (await api('/api/adapter?round=0')).arrayBuffer())).digest('hex');
    expect(fromPage).toBe(fromApi);

    await screenshot(page, 'dashboard', 1280);
    await screenshot(page, 'dashboard', 390);
    expect(errors).toEqual([]);
    await page.close();
  });
});
