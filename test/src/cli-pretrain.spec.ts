import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@fedsnell/tensor-io';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import { ownErrorLines, runCli } from './testing/run-cli';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-pretrain-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fedsnell pretrain on a tiny budget', () => {
  const out = () => join(dir, 'vit');
  let summary: {
    dtype: string;
    steps: number;
    loss: { first: number; last: number };
    heldOut: { images: number; accuracyF32: number; accuracyF16: number };
    file: { sha256: string };
    data: { trainImages: number; skippedEntries: Record<string, number[]> };
  };

  beforeAll(async () => {
    const r = await runCli([
      'pretrain', '--out', out(), '--train-count', '320', '--test-count', '100', '--max-steps', '24', '--batch', '32',
      '--warmup-epochs', '0', '--lr', '0.003', '--embed-dim', '16', '--depth', '1', '--heads', '2', '--patch', '7', '--seed', '1', '--json',
    ], { timeoutMs: 240_000 });
    expect(ownErrorLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    summary = JSON.parse(r.stdout);
  }, 240_000);

  it('lowers the training loss', () => {
    expect(summary.steps).toBe(24);
    expect(summary.loss.last).toBeLessThan(summary.loss.first);
  });

  it('writes a folder the backbone loader reads, with the recipe of what it wrote', async () => {
    const folder = await loadBackboneFolder(out());
    expect(folder.config).toMatchObject({ imgSize: [28, 28], patchSize: 7, embedDim: 16, depth: 1, numHeads: 2, numClasses: 10 });
    expect(folder.config.mean[0]).toBeCloseTo(0.2861, 3);
    expect(folder.unusedTensors).toEqual([]);
    const recipe = JSON.parse(await readFile(join(out(), 'recipe.json'), 'utf8'));
    expect(recipe.file.sha256).toBe(folder.sha256);
    expect(await sha256Hex(await readFile(join(out(), 'model.safetensors')))).toBe(folder.sha256);
    expect(recipe.command).toContain('fedsnell pretrain --out');
    expect(summary.heldOut.images).toBe(100);
    expect(summary.data.trainImages).toBe(320);
    expect(summary.data.skippedEntries).toEqual({ '0': [1000, 7001] });
  });

  it('ships F16 only when it scores within 0.1 point of F32', () => {
    const { accuracyF32, accuracyF16 } = summary.heldOut;
    expect(summary.dtype).toBe(accuracyF16 >= accuracyF32 - 0.001 ? 'F16' : 'F32');
  });

  it('refuses a patch size that does not divide 28, in one line', async () => {
    const r = await runCli(['pretrain', '--out', join(dir, 'bad'), '--patch', '5'], { timeoutMs: 240_000 });
    expect(r.code).toBe(1);
    expect(ownErrorLines(r.stderr)).toEqual(['fedsnell pretrain: --patch must divide 28 (1, 2, 4, 7, 14 or 28) but got 5']);
  }, 240_000);
});

describe('fedsnell data export --set fashion-mnist', () => {
  it('skips the empty entries of class 0 with a counted warning', async () => {
    const r = await runCli(['data', 'export', '--set', 'fashion-mnist', '--out', join(dir, 'fm'), '--per-class', '1', '--offset', '999', '--json'], { timeoutMs: 240_000 });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.skipped[0]).toEqual([1000, 7001]);
    expect(summary.counts['.']).toEqual(new Array(10).fill(1));
    expect(r.stderr).toContain('fashion-mnist class 0: skipped 2 entries that are not 784 pixels (positions 1000, 7001)');
  }, 240_000);
});
