import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PreprocessConfig } from '../lib/preprocess';
import { rawImageDataset } from '../lib/raw-dataset';
import type { Dataset, RawExample } from '../lib/types';
import { writeImageFolder } from './write-image-folder';

export type MnistSet = 'mnist' | 'fashion-mnist';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const SIDE = 28;
const PIXELS = SIDE * SIDE;

function checkSet(fn: string, set: string): asserts set is MnistSet {
  if (set !== 'mnist' && set !== 'fashion-mnist') {
    throw new Error(`set passed to ${fn} must be 'mnist' or 'fashion-mnist' but got ${JSON.stringify(set)}`);
  }
}

/**
 * The 28x28 grey images of one class as bytes (image k at k·784). The packages ship one JSON file per
 * class: mnist (10 000 digits) stores one flat array of intensities in [0, 1] rounded to 3 decimals
 * (v/255, so round(v·255) recovers the byte exactly); fashion-mnist (70 002 clothes) stores an array of
 * 784-long arrays of bytes 0..255. Their own sampling helpers use Math.random (and fashion-mnist's
 * `length` is wrong), so the files are read directly. Entries that are not 784 pixels (fashion-mnist's
 * class 0 holds two empty ones, at positions 1000 and 7001) are skipped, never padded: image k is the
 * k-th valid entry, `skippedMnistEntries` lists the skipped positions, and the first read of such a
 * class emits one process warning that counts them.
 */
export function readMnistClass(set: MnistSet, label: number): Uint8Array {
  checkSet('readMnistClass()', set);
  if (!Number.isInteger(label) || label < 0 || label > 9) {
    throw new Error(`label passed to readMnistClass() must be an integer in [0, 9] but got ${label}`);
  }
  const key = `${set}/${label}`;
  let parsed = cache.get(key);
  if (!parsed) {
    parsed = parseClassFile(set, label);
    cache.set(key, parsed);
    if (parsed.skipped.length > 0) {
      process.emitWarning(
        `${set} class ${label}: skipped ${parsed.skipped.length} entr${parsed.skipped.length === 1 ? 'y' : 'ies'} that ` +
          `${parsed.skipped.length === 1 ? 'is' : 'are'} not ${PIXELS} pixels (position${parsed.skipped.length === 1 ? '' : 's'} ${parsed.skipped.join(', ')})`,
        { code: 'FEDSNELL_MNIST_SKIPPED' },
      );
    }
  }
  return parsed.bytes;
}

/** Positions in the package's class file of the entries readMnistClass skipped (not 784 pixels). */
export function skippedMnistEntries(set: MnistSet, label: number): number[] {
  readMnistClass(set, label);
  return [...(cache.get(`${set}/${label}`) as ParsedClass).skipped];
}

interface ParsedClass {
  bytes: Uint8Array;
  skipped: number[];
}

/**
 * Parsing the JSON costs ~0.1-0.2 s per class, so decoded bytes are kept for the process: 7.8 MB for
 * all of mnist, 55 MB for all of fashion-mnist. clearMnistCache() frees them.
 */
const cache = new Map<string, ParsedClass>();

export function clearMnistCache(): void {
  cache.clear();
}

function parseClassFile(set: MnistSet, label: number): ParsedClass {
  const pkg = path.dirname(require.resolve(`${set}/package.json`));
  const file = path.join(pkg, 'src', set === 'mnist' ? 'digits' : 'clothes', `${label}.json`);
  const parsed: { data: number[] | unknown[] } = JSON.parse(readFileSync(file, 'utf8'));
  if (set === 'mnist') {
    const flat = parsed.data as number[];
    return { bytes: Uint8Array.from(flat, (v) => Math.round(v * 255)), skipped: [] };
  }
  const skipped: number[] = [];
  const rows: number[][] = [];
  parsed.data.forEach((r, k) => {
    if (Array.isArray(r) && r.length === PIXELS) rows.push(r as number[]);
    else skipped.push(k);
  });
  const bytes = new Uint8Array(rows.length * PIXELS);
  rows.forEach((r, k) => bytes.set(r, k * PIXELS));
  return { bytes, skipped };
}

/**
 * Fashion-MNIST's split: 7000 valid images per class in the package, the first 1000 of each class
 * its test part (10 000, as the dataset's t10k), the other 6000 its training part (60 000). The
 * package does not label the parts; the empty entry after the first 1000 of class 0 marks the seam.
 */
export const FASHION_MNIST_TEST_PER_CLASS = 1000;

export type MnistPart = 'train' | 'test';

/** [from, to) of a part within a class's valid images. */
function partRange(set: MnistSet, part: MnistPart | undefined, available: number): [number, number] {
  if (part === undefined) return [0, available];
  if (set !== 'fashion-mnist') throw new Error(`part passed to mnistDataset() is only defined for 'fashion-mnist' but got set '${set}'`);
  if (part !== 'train' && part !== 'test') throw new Error(`part passed to mnistDataset() must be 'train' or 'test' but got ${JSON.stringify(part)}`);
  const seam = Math.min(FASHION_MNIST_TEST_PER_CLASS, available);
  return part === 'test' ? [0, seam] : [seam, available];
}

function readAll(set: MnistSet): Uint8Array[] {
  return Array.from({ length: 10 }, (_, c) => readMnistClass(set, c));
}

export interface MnistDatasetOptions {
  set: MnistSet;
  /** how many examples (default: all from offset on) */
  count?: number;
  /** examples to skip first (default 0) */
  offset?: number;
  /** fashion-mnist only: the package's training (6000 per class) or test (first 1000 per class) part; default both */
  part?: MnistPart;
  preprocess: PreprocessConfig;
}

/**
 * An in-memory Dataset of the package's images, classes interleaved round-robin (digit 0 #0, digit 1 #0,
 * …, digit 9 #0, digit 0 #1, …; a class that runs out drops out of the rotation), so any prefix is
 * balanced; `offset`/`count` take a slice of that order. Images stay 28x28 bytes until loaded.
 */
export function mnistDataset(options: MnistDatasetOptions): Dataset {
  const { set, offset = 0, preprocess } = options;
  checkSet('mnistDataset()', set);
  partRange(set, options.part, 0); // a bad part fails before any file is read
  const byClass = readAll(set);
  const ranges = byClass.map((b) => partRange(set, options.part, b.length / PIXELS));
  const order: Array<[number, number]> = [];
  for (let r = 0; r < Math.max(...ranges.map(([from, to]) => to - from)); r++) {
    for (let c = 0; c < 10; c++) if (ranges[c][0] + r < ranges[c][1]) order.push([c, ranges[c][0] + r]);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > order.length) {
    throw new Error(`offset passed to mnistDataset() must be an integer in [0, ${order.length}] but got ${offset}`);
  }
  const count = options.count ?? order.length - offset;
  if (!Number.isInteger(count) || count < 0 || offset + count > order.length) {
    throw new Error(
      `count passed to mnistDataset() must be an integer in [0, ${order.length - offset}] (offset ${offset} of ${order.length}) but got ${count}`,
    );
  }
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const [c, r] = order[offset + k];
    pixels.set(byClass[c].subarray(r * PIXELS, (r + 1) * PIXELS), k * PIXELS);
    labels[k] = c;
  }
  const classes = set === 'mnist' ? [...MNIST_CLASSES] : [...FASHION_MNIST_CLASSES];
  const getImage = (i: number) => ({ width: SIDE, height: SIDE, channels: 1 as const, data: pixels.subarray(i * PIXELS, (i + 1) * PIXELS) });
  return rawImageDataset(classes, labels, getImage, preprocess);
}

/**
 * Folder names for an exported set: the digits for mnist; for fashion-mnist `<label>_<name>` with '/'
 * and spaces replaced by '-', so that sorted folder order equals label order ("0_T-shirt-top", …).
 */
export function mnistFolderNames(set: MnistSet): string[] {
  checkSet('mnistFolderNames()', set);
  return set === 'mnist' ? [...MNIST_CLASSES] : FASHION_MNIST_CLASSES.map((n, i) => `${i}_${n.replace(/[/ ]/g, '-')}`);
}

export interface ExportOptions {
  /** examples per class (default: all from offset on, or fewer where a class is shorter) */
  perClass?: number;
  /** examples of each class to skip first (default 0) */
  offset?: number;
  /** fraction in (0, 1) of each class's exported examples written to `<dir>/test` (the last ones);
   * the rest go to `<dir>/train`. Without it everything goes to `<dir>`. */
  split?: number;
}

export interface ExportResult {
  classes: string[];
  /** files written per class, keyed by the folder they went to (`.`, or `train` and `test`) */
  counts: Record<string, number[]>;
  /** per class, positions in the package's file of entries skipped as not 784 pixels (skippedMnistEntries) */
  skipped: number[][];
}

/**
 * Writes the package's images as PNG ImageFolder(s), class by class (one class in memory at a time).
 * File names are the image's index among its class's valid images (readMnistClass), zero-padded to 5
 * digits.
 */
export async function exportImageFolder(set: MnistSet, dir: string, options: ExportOptions = {}): Promise<ExportResult> {
  checkSet('exportImageFolder()', set);
  const { perClass, offset = 0, split } = options;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new Error(`offset passed to exportImageFolder() must be a non-negative integer but got ${offset}`);
  }
  if (perClass !== undefined && (!Number.isInteger(perClass) || perClass < 1)) {
    throw new Error(`perClass passed to exportImageFolder() must be a positive integer but got ${perClass}`);
  }
  if (split !== undefined && !(split > 0 && split < 1)) {
    throw new Error(`split passed to exportImageFolder() must be a fraction in (0, 1) but got ${split}`);
  }
  const classes = mnistFolderNames(set);
  const parts = split === undefined ? ['.'] : ['train', 'test'];
  const counts: Record<string, number[]> = Object.fromEntries(parts.map((p) => [p, new Array<number>(10).fill(0)]));
  for (let c = 0; c < 10; c++) {
    const bytes = readMnistClass(set, c);
    const available = bytes.length / PIXELS;
    const end = Math.min(available, perClass === undefined ? available : offset + perClass);
    const n = Math.max(0, end - offset);
    const nTest = split === undefined ? 0 : Math.round(n * split);
    const examples = (from: number, to: number): RawExample[] =>
      Array.from({ length: to - from }, (_, k) => {
        const r = from + k;
        return {
          label: c,
          name: String(r).padStart(5, '0'),
          image: { width: SIDE, height: SIDE, channels: 1, data: bytes.subarray(r * PIXELS, (r + 1) * PIXELS) },
        };
      });
    const ranges: Array<[string, number, number]> =
      split === undefined ? [['.', offset, offset + n]] : [['train', offset, offset + n - nTest], ['test', offset + n - nTest, offset + n]];
    for (const [part, from, to] of ranges) {
      // writing one class at a time still creates every class folder, so empty classes keep their index
      await writeImageFolder(path.join(dir, part), classes, examples(from, to));
      counts[part][c] = to - from;
    }
  }
  return { classes, counts, skipped: classes.map((_, c) => skippedMnistEntries(set, c)) };
}
