import { AUTO_WORKERS_MIN_GFLOP, autoWorkerCount, forwardGflopPerImage, type VitCost } from './auto-workers';

const vit = (embedDim: number, depth: number, img: number, patch: number): VitCost => {
  const numPatches = (img / patch) ** 2;
  return { embedDim, depth, mlpHidden: 4 * embedDim, numPatches, numTokens: numPatches + 1, patchSize: patch };
};
const VIT_TI = vit(192, 12, 224, 16);
const VIT_B = vit(768, 12, 224, 16);
// the 28x28 demo backbone in 7x7 patches
const DEMO = vit(64, 4, 28, 7);

describe('forwardGflopPerImage', () => {
  it('gives the published forward cost of ViT-Ti/16 and ViT-B/16 at 224 (1.26 and 17.6 GMAC)', () => {
    expect(forwardGflopPerImage(VIT_TI) / 2).toBeCloseTo(1.25, 1);
    expect(forwardGflopPerImage(VIT_B) / 2).toBeCloseTo(17.6, 0);
  });
});

describe('autoWorkerCount', () => {
  it('uses every core (at most the batch) for a large backbone on wasm or cpu', () => {
    expect(autoWorkerCount(VIT_TI, 32, 'wasm', 2)).toBe(2);
    expect(autoWorkerCount(VIT_TI, 32, 'cpu', 4)).toBe(4);
    expect(autoWorkerCount(VIT_TI, 3, 'wasm', 4)).toBe(3);
  });

  it('trains on this thread with one core, one image, or a backend that does not run in workers', () => {
    expect(autoWorkerCount(VIT_TI, 32, 'wasm', 1)).toBe(1);
    expect(autoWorkerCount(VIT_TI, 1, 'wasm', 4)).toBe(1);
    expect(autoWorkerCount(VIT_TI, 32, 'webgpu', 4)).toBe(1);
  });

  it('trains a backbone below the cost threshold on this thread', () => {
    expect(forwardGflopPerImage(DEMO)).toBeLessThan(AUTO_WORKERS_MIN_GFLOP);
    expect(autoWorkerCount(DEMO, 128, 'wasm', 4)).toBe(1);
  });
});
