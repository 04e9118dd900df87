import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ImageFolderError } from '../lib/errors';
import type { PreprocessConfig } from '../lib/preprocess';
import { rawImageDataset } from '../lib/raw-dataset';
import type { Dataset } from '../lib/types';
import { decodeImage } from './decode';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export interface ImageFolderOptions {
  /** keep classes whose folder holds no image (their index stays reserved); default false, an error */
  allowEmpty?: boolean;
}

export interface ImageFolderDataset extends Dataset {
  root: string;
  /** files[i] is the path of example i */
  files: string[];
}

/** Python's sorted() order for names: plain code-unit comparison, no locale. */
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isHidden = (name: string) => name.startsWith('.');

/**
 * Opens a torchvision-style ImageFolder: classes are the non-hidden sub-folders of `dir` in sorted name
 * order; each class holds the .png/.jpg/.jpeg files (any letter case) found by walking its folder
 * recursively (symlinks followed), visited like torchvision (`sorted(os.walk(...))`: folders by full
 * path, files by name), hidden files and folders skipped. Only the file list is read here; each image is
 * read, decoded and preprocessed when `load` asks for it.
 */
export async function openImageFolder(
  dir: string,
  preprocess: PreprocessConfig,
  options: ImageFolderOptions = {},
): Promise<ImageFolderDataset> {
  const root = path.resolve(dir);
  const stat = await fsp.stat(root).catch(() => undefined);
  if (!stat) throw new ImageFolderError('MISSING', root, `dir passed to openImageFolder() must exist but nothing is at ${root}`);
  if (!stat.isDirectory()) throw new ImageFolderError('NOT_A_FOLDER', root, `dir passed to openImageFolder() must be a folder but ${root} is not`);

  const classes: string[] = [];
  for (const entry of await fsp.readdir(root, { withFileTypes: true })) {
    if (isHidden(entry.name)) continue;
    if (await isDirectory(path.join(root, entry.name))) classes.push(entry.name);
  }
  classes.sort(byCodeUnit);
  if (classes.length === 0) throw new ImageFolderError('NO_CLASSES', root, `openImageFolder() found no class sub-folders in ${root}`);

  const files: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  for (let c = 0; c < classes.length; c++) {
    const found = await listImages(path.join(root, classes[c]));
    if (found.length === 0) empty.push(classes[c]);
    for (const f of found) {
      files.push(f);
      labels.push(c);
    }
  }
  if (files.length === 0) {
    throw new ImageFolderError('NO_IMAGES', root, `openImageFolder() found no .png/.jpg/.jpeg images in any class folder of ${root}`);
  }
  if (empty.length > 0 && !options.allowEmpty) {
    throw new ImageFolderError(
      'EMPTY_CLASSES',
      root,
      `openImageFolder() found no .png/.jpg/.jpeg images for classes ${empty.join(', ')} in ${root} (the allowEmpty option keeps them)`,
      empty,
    );
  }
  const getImage = async (i: number) => decodeImage(await fsp.readFile(files[i]), files[i]);
  return { ...rawImageDataset(classes, Int32Array.from(labels), getImage, preprocess), root, files };
}

async function isDirectory(p: string): Promise<boolean> {
  const s = await fsp.stat(p).catch(() => undefined);
  return s?.isDirectory() ?? false;
}

/** Image files under `top`, torchvision's order; a symlink loop is walked once. */
async function listImages(top: string): Promise<string[]> {
  const groups: Array<{ dir: string; names: string[] }> = [];
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const real = await fsp.realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const names: string[] = [];
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      if (isHidden(entry.name)) continue;
      const full = path.join(dir, entry.name);
      // one stat per symlink only: large folders hold many files and the Dirent already knows the rest
      const s = entry.isSymbolicLink() ? await fsp.stat(full).catch(() => undefined) : entry;
      if (s?.isDirectory()) await walk(full);
      else if (s?.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) names.push(entry.name);
    }
    groups.push({ dir, names: names.sort(byCodeUnit) });
  };
  await walk(top);
  groups.sort((a, b) => byCodeUnit(a.dir, b.dir));
  return groups.flatMap((g) => g.names.map((n) => path.join(g.dir, n)));
}
