import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DataError, messageOf, type DataSource, type SkippedFile } from '@fedsnell/client';
import type { DatasetData } from '@fedsnell/client/training';
import { ImageFolderError, rawImageDataset, type PreprocessConfig } from '@fedsnell/data';
import { decodeImage, openImageFolder } from '@fedsnell/data/node';

/**
 * A local ImageFolder as the client's data source. Every image is decoded once when the folder is
 * opened: a file that cannot be decoded (corrupt PNG, a text file named .jpg) is left out and counted,
 * so no round can fail half-way on it. Images are decoded again, one batch at a time, while training.
 */
export function imageFolderSource(dir: string): DataSource<DatasetData> {
  return { open: (preprocess) => openCheckedFolder(dir, preprocess) };
}

async function openCheckedFolder(dir: string, preprocess: PreprocessConfig): Promise<DatasetData> {
  const root = resolve(dir);
  const s = await stat(root).catch(() => undefined);
  if (!s?.isDirectory()) throw new DataError(`data folder ${root} ${s ? 'is not a folder' : 'does not exist'}`);
  let folder;
  try {
    // classes with no image stay (non-IID splits): labels index the task's classes
    folder = await openImageFolder(root, preprocess, { allowEmpty: true });
  } catch (error) {
    throw new DataError(folderProblem(root, error));
  }
  const files: string[] = [];
  const labels: number[] = [];
  const skipped: SkippedFile[] = [];
  for (let i = 0; i < folder.files.length; i++) {
    const file = folder.files[i];
    try {
      decodeImage(await readFile(file), file);
      files.push(file);
      labels.push(folder.labels[i]);
    } catch (error) {
      skipped.push({ name: file, reason: messageOf(error) });
    }
  }
  const getImage = async (i: number) => {
    try {
      return decodeImage(await readFile(files[i]), files[i]);
    } catch (error) {
      // changed or removed since the folder was opened: the round fails and the server is told
      throw new DataError(`cannot read ${files[i]} any more: ${messageOf(error)}`);
    }
  };
  const dataset = rawImageDataset(folder.classes, Int32Array.from(labels), getImage, preprocess);
  return { location: root, classes: folder.classes, size: files.length, skipped, dataset };
}

/** An ImageFolder failure in the client's words (the folder, not a function's argument). */
function folderProblem(root: string, error: unknown): string {
  if (!(error instanceof ImageFolderError)) return messageOf(error);
  switch (error.code) {
    case 'NO_CLASSES':
      return `data folder ${root} has no class sub-folders (one per class of the task)`;
    case 'NO_IMAGES':
      return `data folder ${root} has no .png/.jpg/.jpeg image in any class folder`;
    default:
      return `data folder ${root}: ${error.message}`;
  }
}
