import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImageFolder } from '@fedsnell/data/node';
import type { Page } from 'playwright-core';
import { collectErrors, ensurePagesBuilt, launchChromium, screenshot, type BrowserSession } from '../testing/browser';
import { FedsnellProcess, freePort, until } from '../testing/processes';
import { FIXTURE } from '../testing/run-cli';

const ADMIN = 'admin-web';
const CLIENT = 'client-web-token';

interface LogEntry {
  at: number;
  message: { type: string; [key: string]: unknown };
}
interface RoundRecord {
  round: number;
  status: string;
  updates: number;
  selected: string[];
}

let dir: string;
let port: number;
let coordinator: FedsnellProcess;
let nodeClient: FedsnellProcess;
let browser: BrowserSession;
let page: Page;
let errors: string[];
/** the numbers the report needs, printed once at the end */
const facts: Record<string, unknown> = {};

async function startCoordinator(): Promise<FedsnellProcess> {
  const c = new FedsnellProcess([
    'coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--task', join(dir, 'task.json'), '--state', join(dir, 'state'),
    '--port', String(port), '--client-token', CLIENT, '--admin-token', ADMIN, '--backend', 'wasm',
  ]);
  await c.waitFor('coordinator listening');
  return c;
}

async function rounds(): Promise<RoundRecord[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/rounds`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return ((await res.json()) as { rounds: RoundRecord[] }).rounds.filter((r) => r.status !== 'open');
}

const pageLog = (): Promise<LogEntry[]> => page.evaluate(() => (window as Window & { fedsnellLog?: LogEntry[] }).fedsnellLog ?? []);
const events = async (type: string) => (await pageLog()).filter((e) => e.message.type === 'event' && (e.message['event'] as { type: string }).type === type);

async function openJoin(fragment: Record<string, string>): Promise<void> {
  const hash = new URLSearchParams({ server: `http://127.0.0.1:${port}`, token: CLIENT, ...fragment }).toString();
  // from another page, so that this is a new page load and not a fragment change of the last one
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.goto(`http://127.0.0.1:${port}/join/#${hash}`);
  await page.setInputFiles('#folder', join(dir, 'browser-data'));
  await page.click('#start');
}

/** Waits until the page lists at least `n` accepted updates; returns their rounds, ascending. On timeout the error shows what the page saw. */
async function acceptedRounds(n: number, timeoutMs = 240_000): Promise<number[]> {
  try {
    await page.waitForFunction((k) => document.querySelectorAll('#updates td.fate-ok').length >= k, n, { timeout: timeoutMs, polling: 250 });
  } catch (error) {
    const tail = (await pageLog().catch(() => [])).slice(-6).map((e) => JSON.stringify(e.message).slice(0, 240));
    throw new Error(`the page did not list ${n} accepted update(s) in ${timeoutMs} ms: ${(error as Error).message.split('\n')[0]}\npage log tail:\n${tail.join('\n')}\npage errors: ${errors.join('; ')}`);
  }
  const rounds = await page.$$eval('#updates tr', (rows) => rows.filter((r) => r.querySelector('td.fate-ok')).map((r) => Number((r as HTMLElement).dataset['round'])));
  return rounds.sort((a, b) => a - b);
}

/** The rounds the page was told to train, in order. */
const startedRounds = async () => (await events('round:start')).map((e) => (e.message['event'] as { round: number }).round);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-web-'));
  await ensurePagesBuilt(['client-web']);
  await exportImageFolder('mnist', join(dir, 'browser-data'), { perClass: 1, offset: 0 });
  await exportImageFolder('mnist', join(dir, 'node-data'), { perClass: 1, offset: 1 });
  await exportImageFolder('mnist', join(dir, 'eval'), { perClass: 1, offset: 50 });
  // bad input in the picked folder: a text file and a PNG cut short
  await writeFile(join(dir, 'browser-data', '3', 'notes.txt'), 'not an image');
  const first = (await readdir(join(dir, 'browser-data', '4')))[0];
  const png = await readFile(join(dir, 'browser-data', '4', first));
  await writeFile(join(dir, 'browser-data', '4', 'corrupt.png'), png.subarray(0, 40));
  await writeFile(
    join(dir, 'task.json'),
    JSON.stringify({
      taskId: 'web',
      snell: { rank: 4, sparsity: 0.5 },
      trainer: { epochs: 2, batchSize: 10, lr: 0.01, adapterDropout: 0, dropPath: 0 },
      rounds: { totalRounds: 40, minClients: 2, minReplies: 2, graceMs: 0, roundTimeoutMs: 180000, waitForClientsMs: 200 },
    }),
  );
  port = await freePort();
  coordinator = await startCoordinator();
  nodeClient = new FedsnellProcess([
    'client', '--server', `http://127.0.0.1:${port}`, '--token', CLIENT, '--data', join(dir, 'node-data'), '--client-id', 'node-0',
    '--backend', 'wasm', '--cache', join(dir, 'cache-node'), '--rounds', '40',
  ]);
  browser = await launchChromium();
  page = await browser.context.newPage();
  errors = collectErrors(page);
}, 180_000);

afterAll(async () => {
  console.log(`client-web facts ${JSON.stringify(facts)}`);
  await browser?.close();
  nodeClient?.kill();
  coordinator?.kill();
  await coordinator?.exited;
  await rm(dir, { recursive: true, force: true });
});

describe('client page (/join) in headless Chromium', () => {
  it('says a wrong token is wrong, in words', async () => {
    const hash = new URLSearchParams({ server: `http://127.0.0.1:${port}`, token: 'not-the-token' }).toString();
    await page.goto(`http://127.0.0.1:${port}/join/#${hash}`);
    expect(page.url()).toBe(`http://127.0.0.1:${port}/join/`);
    await page.setInputFiles('#folder', join(dir, 'browser-data'));
    await page.click('#start');
    await page.locator('#error').filter({ hasText: 'refused the client token' }).waitFor({ timeout: 30_000 });
  }, 300_000);

  it('joins next to a Node client, trains on WebGPU, skips bad files with a warning, and both updates aggregate', async () => {
    const opened = Date.now();
    await openJoin({ backend: 'webgpu', id: 'browser-0' });
    expect(await acceptedRounds(1)).toEqual([0]);
    const log = await pageLog();
    const backend = log.find((e) => e.message.type === 'backend')?.message['info'] as { name: string; adapter: unknown; crossOriginIsolated: boolean };
    expect(backend.name).toBe('webgpu');
    expect(backend.crossOriginIsolated).toBe(true);
    facts['webgpuAdapter'] = backend.adapter;
    const sent = await events('update:sent');
    facts['msFromOpenToFirstUpdateSent'] = Math.round(sent[0].at);
    facts['wallMsToFirstAccepted'] = Date.now() - opened;
    // the warning names both bad files
    const warnings = await page.locator('#warnings').textContent();
    expect(warnings).toContain('3/notes.txt');
    expect(warnings).toContain('4/corrupt.png');
    expect(await page.locator('#data').textContent()).toMatch(/^10 images/);
    // the round aggregated both clients' updates
    const r0 = await until(async () => (await rounds()).find((r) => r.round === 0), 'round 0 closed', 60_000);
    expect(r0.status).toBe('aggregated');
    expect(r0.updates).toBe(2);
    expect([...r0.selected].sort()).toEqual(['browser-0', 'node-0']);
    expect(await page.locator('#backend-info').textContent()).toContain('webgpu');
    // progress reached the page step by step, up to the round's last step
    const steps = (await events('train')).map((e) => e.message['event'] as { round: number; step: number; totalSteps: number }).filter((t) => t.round === 0);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps[steps.length - 1].step).toBe(steps[0].totalSteps);
  }, 300_000);

  it('after a reload takes the backbone from the cache, and trains on wasm when asked', async () => {
    await openJoin({ backend: 'wasm', id: 'browser-0' });
    await acceptedRounds(1);
    const backbone = (await events('backbone')).map((e) => (e.message['event'] as { phase: string }).phase);
    expect(backbone).toContain('cached');
    expect(backbone).not.toContain('download');
    const info = (await pageLog()).find((e) => e.message.type === 'backend')?.message['info'] as { name: string; wasmThreads: boolean };
    expect(info.name).toBe('wasm');
    facts['wasmThreads'] = info.wasmThreads;
    expect(await page.locator('#backbone').textContent()).toContain('cache');
  }, 300_000);

  it('releases every round tensor (tf.memory() the same after two rounds)', async () => {
    const [first, second] = await acceptedRounds(2);
    const memory = (await pageLog()).filter((e) => e.message.type === 'memory').map((e) => e.message as { type: string; round?: number; numTensors?: number });
    const afterFirst = memory.find((m) => m.round === first);
    const afterSecond = memory.find((m) => m.round === second);
    expect(afterFirst?.numTensors).toBeGreaterThan(0);
    expect(afterSecond?.numTensors).toBe(afterFirst?.numTensors);
    await screenshot(page, 'join', 1280);
    await screenshot(page, 'join', 390);
    expect(errors).toEqual([]);
  }, 300_000);

  it('reconnects and resumes when the coordinator goes away mid-round', async () => {
    // kill the coordinator as soon as the page is told of a new round, restart it on the same state
    const seen = Math.max(...(await startedRounds()));
    const next = await until(async () => (await startedRounds()).find((r) => r > seen), `a round after ${seen}`, 120_000);
    coordinator.kill('SIGKILL');
    await coordinator.exited;
    await page.locator('#link').filter({ hasText: /reconnecting|disconnected/ }).waitFor({ timeout: 30_000 });
    coordinator = await startCoordinator();
    await page.locator('#link').filter({ hasText: 'joined' }).waitFor({ timeout: 60_000 });
    // the resumed coordinator runs round `next` again (its checkpoint is the state before it); the page delivers it
    const resumed = await until(async () => ((await acceptedRounds(1)).some((r) => r >= next) ? true : undefined), `an accepted update for round ${next} or later`, 180_000);
    expect(resumed).toBe(true);
    const closed = await until(async () => (await rounds()).find((r) => r.round === next), `round ${next} closed`, 120_000);
    expect(closed.status).toBe('aggregated');
    expect(closed.updates).toBe(2);
    expect(errors).toEqual([]);
  }, 300_000);
});
