import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeImage } from './decode';
import { openImageFolder } from './image-folder';
import { clearMnistCache, exportImageFolder, mnistDataset, mnistFolderNames, readMnistClass, skippedMnistEntries } from './mnist';

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

  it('skips the two empty fashion-mnist entries of class 0 without padding', () => {
    const raw = packageJson<number[][]>('fashion-mnist/src/clothes/0.json');
    const bytes = readMnistClass('fashion-mnist', 0);
    expect(raw).toHaveLength(7002);
    expect(bytes.length / 784).toBe(7000);
    expect(skippedMnistEntries('fashion-mnist', 0)).toEqual([1000, 7001]);
    expect([...bytes.subarray(999 * 784, 1000 * 784)]).toEqual(raw[999]);
    expect([...bytes.subarray(1000 * 784, 1001 * 784)]).toEqual(raw[1001]);
    expect([...bytes.subarray(6999 * 784)]).toEqual(raw[7000]);
  });

  it('skips nothing in a class without malformed entries', () => {
    expect(skippedMnistEntries('fashion-mnist', 3)).toEqual([]);
    expect(skippedMnistEntries('mnist', 0)).toEqual([]);
  });

  it('warns once, with the count, on the first read of a class with skipped entries', () => {
    clearMnistCache();
    const warnings: string[] = [];
    const listen = (w: Error) => warnings.push(w.message);
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => listen(typeof w === 'string' ? new Error(w) : w));
    try {
      readMnistClass('fashion-mnist', 0);
      readMnistClass('fashion-mnist', 0);
      readMnistClass('fashion-mnist', 1);
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toEqual(['fashion-mnist class 0: skipped 2 entries that are not 784 pixels (positions 1000, 7001)']);
  });
});

describe('fashion-mnist parts', () => {
  it('holds out the first 1000 images of each class as the 10 000 test images', () => {
    const test = mnistDataset({ set: 'fashion-mnist', part: 'test', preprocess: native });
    const hist = new Array(10).fill(0);
    for (const y of test.labels) hist[y]++;
    expect(hist).toEqual(new Array(10).fill(1000));
  });

  it('trains on the other 6000 of each class, starting after the seam', async () => {
    const train = mnistDataset({ set: 'fashion-mnist', part: 'train', preprocess: native });
    expect(train.size).toBe(60000);
    const raw = packageJson<number[][]>('fashion-mnist/src/clothes/0.json');
    const { x, y } = await train.load([0]);
    expect(y[0]).toBe(0);
    expect(Array.from(x.subarray(0, 784), (v) => Math.round(v * 255))).toEqual(raw[1001]);
  });

  it('rejects a part for mnist, which has no split', () => {
    expect(() => mnistDataset({ set: 'mnist', part: 'test', preprocess: native })).toThrow(
      "part passed to mnistDataset() is only defined for 'fashion-mnist' but got set 'mnist'",
    );
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

  it('exports fashion-mnist class 0 past its empty entries and reports them', async () => {
    const result = await exportImageFolder('fashion-mnist', root, { perClass: 1, offset: 1000 });
    expect(result.skipped[0]).toEqual([1000, 7001]);
    expect(result.skipped.slice(1)).toEqual(new Array(9).fill([]));
    const png = decodeImage(readFileSync(path.join(root, '0_T-shirt-top', '01000.png')), 'x');
    const raw = packageJson<number[][]>('fashion-mnist/src/clothes/0.json');
    expect([...png.data].filter((_, i) => i % 4 === 0)).toEqual(raw[1001]);
  });

  it('rejects a split of 1', async () => {
    await expect(exportImageFolder('mnist', root, { split: 1 })).rejects.toThrow(
      'split passed to exportImageFolder() must be a fraction in (0, 1) but got 1',
    );
  });
});
