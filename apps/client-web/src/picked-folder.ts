import { DataError, type DataSource, type SkippedFile } from '@fedsnell/client';
import type { DatasetData } from '@fedsnell/client/training';
import { decodeJpeg, rawImageDataset, type PreprocessConfig, type RawImage } from '@fedsnell/data';
import { plainView } from './cache-storage-backbones';
import type { PickedFile } from './messages';
import { errorMessage } from '@fedsnell/util';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IMAGE_NAME = /\.(png|jpe?g)$/i;
/** Decoded pixels kept in memory (else an image is decoded again for every batch). */
const KEEP_DECODED_BYTES = 256 * 1024 * 1024;

/** Python's sorted() order for names: plain code-unit comparison, no locale. */
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Decodes a PNG or JPEG (by content, not by name) in the browser. JPEG goes through the same decoder
 * as Node (@fedsnell/data's decodeJpeg over jpeg-js), so both give identical pixels. PNG is decoded
 * by the browser without colour management; opaque 8-bit images give the same pixels as Node's
 * pngjs (16-bit samples are rounded rather than truncated, and semi-transparent pixels pass through
 * the canvas's premultiplied alpha).
 */
export async function decodeImageFile(bytes: Uint8Array, name: string): Promise<RawImage> {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([plainView(bytes)], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch {
      throw new Error('corrupt PNG (the browser cannot decode it)');
    }
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error(`cannot decode ${name}: no 2-D canvas in this browser`);
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width, height, channels: 4, data };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes, name);
  throw new Error('not a PNG or JPEG image (by its first bytes)');
}

interface Listed {
  classes: string[];
  files: Array<{ path: string; file: File; label: number }>;
  skipped: SkippedFile[];
}

/**
 * The picked folder in ImageFolder layout: classes are the first-level sub-folders (sorted, hidden
 * ones left out), images are .png/.jpg/.jpeg files below them in torchvision's order (folders by
 * path, files by name). Other files are reported as skipped.
 */
export function listPickedFolder(picked: readonly PickedFile[]): Listed {
  const visible = picked.filter((p) => !p.path.split('/').some((part) => part.startsWith('.')));
  const classes = [...new Set(visible.filter((p) => p.path.includes('/')).map((p) => p.path.split('/')[0]))].sort(byCodeUnit);
  const skipped: SkippedFile[] = [];
  const files: Listed['files'] = [];
  for (const p of visible) {
    if (!p.path.includes('/')) skipped.push({ name: p.path, reason: 'not inside a class folder' });
    else if (!IMAGE_NAME.test(p.path)) skipped.push({ name: p.path, reason: 'not a .png, .jpg or .jpeg image' });
  }
  for (let label = 0; label < classes.length; label++) {
    const groups = new Map<string, PickedFile[]>();
    for (const p of visible) {
      if (!p.path.startsWith(`${classes[label]}/`) || !IMAGE_NAME.test(p.path)) continue;
      const dir = p.path.slice(0, p.path.lastIndexOf('/'));
      groups.set(dir, [...(groups.get(dir) ?? []), p]);
    }
    for (const dir of [...groups.keys()].sort(byCodeUnit)) {
      const names = (groups.get(dir) ?? []).sort((a, b) => byCodeUnit(a.path, b.path));
      for (const p of names) files.push({ path: p.path, file: p.file, label });
    }
  }
  return { classes, files, skipped };
}

/**
 * A folder picked in the page as the client's data source. Every image is decoded once when the
 * task opens it; files that cannot be used are skipped (and listed), so no round fails half-way on
 * them. Nothing here leaves the browser.
 */
export function pickedFolderSource(folder: string, picked: readonly PickedFile[]): DataSource<DatasetData> {
  return { open: (preprocess) => openPickedFolder(folder, picked, preprocess) };
}

export async function openPickedFolder(folder: string, picked: readonly PickedFile[], preprocess: PreprocessConfig): Promise<DatasetData> {
  const listed = listPickedFolder(picked);
  if (listed.classes.length === 0) throw new DataError(`the picked folder ${folder} has no class sub-folders (ImageFolder layout: ${folder}/<class>/<image>.png)`);
  const skipped = [...listed.skipped];
  const kept: Array<{ file: File; path: string; image: RawImage | null }> = [];
  const labels: number[] = [];
  let keptBytes = 0;
  for (const f of listed.files) {
    try {
      const image = await decodeImageFile(new Uint8Array(await f.file.arrayBuffer()), f.path);
      const keep = keptBytes + image.data.byteLength <= KEEP_DECODED_BYTES;
      if (keep) keptBytes += image.data.byteLength;
      kept.push({ file: f.file, path: f.path, image: keep ? image : null });
      labels.push(f.label);
    } catch (error) {
      skipped.push({ name: f.path, reason: errorMessage(error) });
    }
  }
  if (kept.length === 0) throw new DataError(`the picked folder ${folder} holds no usable .png/.jpg/.jpeg image in its class folders`);
  const getImage = async (i: number): Promise<RawImage> => {
    const entry = kept[i];
    if (entry.image) return entry.image;
    try {
      return await decodeImageFile(new Uint8Array(await entry.file.arrayBuffer()), entry.path);
    } catch (error) {
      throw new DataError(`cannot read ${entry.path} any more: ${errorMessage(error)}`);
    }
  };
  const dataset = rawImageDataset(listed.classes, Int32Array.from(labels), getImage, preprocess);
  return { location: folder, classes: listed.classes, size: kept.length, skipped, dataset };
}
