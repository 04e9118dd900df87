// Node-only platform pieces of the backend selection. Browser bundles take node-platform.browser.ts
// instead (tools/build-pages.cjs resolves a `.browser.ts` twin first), so no Node code reaches a page.
import { isNode } from './env';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Exposes Dawn (npm `webgpu`) as navigator.gpu in Node. Without a GPU driver, Dawn can run on the
 * SwiftShader Vulkan driver that Debian's chromium ships; it is chosen when present and no other
 * ICD is configured. Returns false when the native module is not loadable.
 */
export function installNodeWebGpu(): boolean {
  if (!isNode) return false;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  if (!process.env['VK_ICD_FILENAMES'] && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  }
  let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> };
  try {
    // The package entry is ESM; its native module is plain CommonJS and loads anywhere (jest too).
    const dir = path.dirname(require.resolve('webgpu/package.json'));
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    dawn = require(path.join(dir, 'dist', `${process.platform}-${arch}`, 'dawn.node'));
  } catch {
    return false;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  const g = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(dawn.globals)) if (!(key in g)) g[key] = value;
  const gpu = dawn.create([]);
  const nav = (g['navigator'] as Record<string, unknown> | undefined) ?? {};
  try {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  } catch {
    return false;
  }
  if (!g['navigator']) g['navigator'] = nav;
  return true;
}

/** The folder holding tfjs-backend-wasm's .wasm binaries in Node (the package's dist/), or undefined. */
export function nodeWasmDir(): string | undefined {
  if (!isNode) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  return `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
}
