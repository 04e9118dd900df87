import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import type { PreprocessConfig } from '@fedsnell/data';
import { encodePng, openImageFolder } from '@fedsnell/data/node';
import { collectErrors, ensurePagesBuilt, launchChromium, type BrowserSession } from '../testing/browser';
import { REPO } from '../testing/run-cli';
import { serveStatic } from '../testing/static-server';

// The client page preprocesses picked images in its worker; the Node client reads the same files
// from disk. Both must give the same tensors (same decoder for JPEG, same resize/crop/normalise code).

let dir: string;
let site: { origin: string; close(): Promise<void> };
let browser: BrowserSession;

function pattern(width: number, height: number, channels: 1 | 3 | 4): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        // smooth gradients with some texture, opaque alpha
        data[(y * width + x) * channels + c] = c === 3 ? 255 : (x * 7 + y * 13 + c * 60 + ((x * y) % 17) * 5) % 256;
      }
    }
  }
  return data;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-prep-'));
  await ensurePagesBuilt(['client-web']);
  const folder = join(dir, 'pictures');
  await mkdir(join(folder, 'a'), { recursive: true });
  await mkdir(join(folder, 'b', 'nested'), { recursive: true });
  await writeFile(join(folder, 'a', 'rgb.png'), encodePng({ width: 37, height: 29, channels: 3, data: pattern(37, 29, 3) }));
  await writeFile(join(folder, 'a', 'grey.png'), encodePng({ width: 20, height: 31, channels: 1, data: pattern(20, 31, 1) }));
  await writeFile(join(folder, 'b', 'photo.jpg'), jpeg.encode({ width: 41, height: 33, data: pattern(41, 33, 4) }, 85).data);
  await writeFile(join(folder, 'b', 'nested', 'photo2.jpeg'), jpeg.encode({ width: 16, height: 16, data: pattern(16, 16, 4) }, 60).data);
  site = await serveStatic(join(REPO, 'dist/apps/client-web'), '/join/');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await rm(dir, { recursive: true, force: true });
});

it.each<[string, PreprocessConfig]>([
  ['resize to 24x24 (bicubic)', { inputSize: [3, 24, 24], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }],
  ['timm eval transform (shorter side, centre crop, bilinear)', { inputSize: [3, 16, 16], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: 'bilinear', cropPct: 0.875 }],
])('the page preprocesses PNG and JPEG files exactly as the Node client does: %s', async (_name, config) => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${site.origin}/join/`);
  await page.setInputFiles('#folder', join(dir, 'pictures'));
  const fromPage = await page.evaluate((c) => {
    const inspect: (c: PreprocessConfig) => Promise<{ classes: string[]; labels: number[]; x: number[] }> = Reflect.get(window, 'fedsnellInspect');
    return inspect(c);
  }, config);
  const folder = await openImageFolder(join(dir, 'pictures'), config);
  const fromNode = await folder.load(Array.from({ length: folder.size }, (_v, i) => i));
  expect(fromPage.classes).toEqual(folder.classes);
  expect(fromPage.labels).toEqual(Array.from(fromNode.y));
  expect(fromPage.x.length).toBe(fromNode.x.length);
  let maxDiff = 0;
  for (let i = 0; i < fromNode.x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fromPage.x[i] - fromNode.x[i]));
  expect(maxDiff).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
