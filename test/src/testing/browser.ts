import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO } from './run-cli';

/** Debian's chromium (scripts/setup.sh installs it); never a downloaded browser. */
export const CHROMIUM = process.env['FEDSNELL_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags that give headless Chromium WebGPU on SwiftShader (no GPU needed) and keep it off the
 * network: every host but 127.0.0.1 resolves to nothing.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export interface BrowserSession {
  context: BrowserContext;
  profile: string;
  close(): Promise<void>;
}

/** A fresh persistent profile (Cache Storage survives reloads within it). */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup.sh (it installs Debian's chromium)`);
  const profile = await mkdtemp(join(tmpdir(), 'fedsnell-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
  });
  return {
    context,
    profile,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go (kept as artifacts of the test run). */
export const RESULTS = join(REPO, 'test-results');

export async function screenshot(page: Page, name: string, width: number): Promise<string> {
  await mkdir(RESULTS, { recursive: true });
  const height = page.viewportSize()?.height ?? 900;
  await page.setViewportSize({ width, height });
  await page.waitForTimeout(300);
  const path = join(RESULTS, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Console errors and page errors, for failure messages. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Builds the pages when missing or older than their sources (as the coordinator would). */
export async function ensurePagesBuilt(names?: string[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builder = require(join(REPO, 'tools', 'build-pages.cjs')) as { ensurePages(names?: string[]): Promise<unknown> };
  await builder.ensurePages(names);
}
