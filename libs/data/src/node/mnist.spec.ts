import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeImage } from './decode';
import { openImageFolder } from './image-folder';
import { exportImageFolder, mnistDataset, mnistFolderNames, readMnistClass } from './mnist';

/** The package's own JSON, read without its helpers. */
const packageJson = <T>(file: string): T => JSON.parse(readFileSync(require.resolve(file), 'utf8')).data;
const native = { inputSize: [3, 28, 28] as [number, number, number], mean: [0, 0, 0], std: [1, 1, 1] };

describe('mnistDataset', () => {
  it('has ten digit classes and the package label counts', () => {
    const ds = mnistDataset({ set: 'mnist', preprocess: native });
    const hist = new Array(10).fill(0);
    for (const y of ds.labels) hist[y]++;
    expect(ds.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(hist).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it('interleaves classes so a prefix is balanced', () => {
    const ds = mnistDataset({ set: 'mnist', count: 20, preprocess: native });
    expect([...ds.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('loads 28x28 grey replicated to RGB in [0, 1]', async () => {
    const ds = mnistDataset({ set: 'mnist', offset: 3, count: 1, preprocess: native });
    const { x, y } = await ds.load([0]);
    const plane = 28 * 28;
    expect(x.length).toBe(3 * plane);
    expect([...x.subarray(0, plane)]).toEqual([...x.subarray(2 * plane)]);
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    expect(y[0]).toBe(3);
  });

  it('recovers the package intensities exactly', async () => {
    const raw = packageJson<number[]>('mnist/src/digits/2.json');
    const ds = mnistDataset({ set: 'mnist', offset: 2, count: 1, preprocess: native });
    const { x } = await ds.load([0]);
    const worst = Math.max(...Array.from({ length: 784 }, (_, i) => Math.abs(x[i] - raw[i])));
    expect(worst).toBeLessThanOrEqual(0.0005);
  });

  it('names the ten Fashion-MNIST classes', () => {
    const ds = mnistDataset({ set: 'fashion-mnist', count: 10, preprocess: native });
    expect(ds.classes[0]).toBe('T-shirt/top');
    expect(ds.classes[9]).toBe('Ankle boot');
    expect([...ds.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects a count past the end', () => {
    expect(() => mnistDataset({ set: 'mnist', offset: 9990, count: 11, preprocess: native })).toThrow(
      'count passed to mnistDataset() must be an integer in [0, 10] (offset 9990 of 10000) but got 11',
    );
  });

  it('rejects an unknown set', () => {
    expect(() => mnistDataset({ set: 'cifar' as 'mnist', preprocess: native })).toThrow(
      `set passed to mnistDataset() must be 'mnist' or 'fashion-mnist' but got "cifar"`,
    );
  });
});

describe('readMnistClass', () => {
  it('reads fashion-mnist bytes as stored', () => {
    const raw = packageJson<number[][]>('fashion-mnist/src/clothes/5.json');
    expect([...readMnistClass('fashion-mnist', 5).subarray(784, 1568)]).toEqual(raw[1]);
  });
});

describe('exportImageFolder', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'fedsnell-mnist-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes folders that read back in label order', async () => {
    await exportImageFolder('fashion-mnist', root, { perClass: 1 });
    const ds = await openImageFolder(root, native);
    expect(ds.classes).toEqual(mnistFolderNames('fashion-mnist'));
    expect([...ds.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ds.classes[0]).toBe('0_T-shirt-top');
  });

  it('splits each class into train and test', async () => {
    const result = await exportImageFolder('mnist', root, { perClass: 4, offset: 1, split: 0.25 });
    expect(result.counts).toEqual({ train: new Array(10).fill(3), test: new Array(10).fill(1) });
    expect((await openImageFolder(path.join(root, 'test'), native)).size).toBe(10);
  });

  it('writes the package pixels losslessly', async () => {
    await exportImageFolder('mnist', root, { perClass: 1, offset: 7 });
    const png = decodeImage(readFileSync(path.join(root, '4', '00007.png')), 'x');
    const expected = readMnistClass('mnist', 4).subarray(7 * 784, 8 * 784);
    expect([...png.data].filter((_, i) => i % 4 === 0)).toEqual([...expected]);
  });

  it('rejects a split of 1', async () => {
    await expect(exportImageFolder('mnist', root, { split: 1 })).rejects.toThrow(
      'split passed to exportImageFolder() must be a fraction in (0, 1) but got 1',
    );
  });
});
