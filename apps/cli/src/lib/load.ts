import { readFile } from 'node:fs/promises';
import { useBackend, parseBackendChoice, type BackendName } from '@fedsnell/backends';
import { decodeAdapter, type AdapterFile } from '@fedsnell/snell';
import { VisionTransformer, type VitConfig } from '@fedsnell/vit';
import { loadBackboneFolder, type BackboneFolder } from '@fedsnell/vit/node';
import { openImageFolder, type ImageFolderDataset } from '@fedsnell/data/node';
import { preprocessFromPretrained, type PreprocessConfig } from '@fedsnell/data';
import { CliError } from './run';
import { errorMessage } from '@fedsnell/util';

export async function selectBackend(choice: string | undefined): Promise<BackendName> {
  return useBackend(parseBackendChoice(choice ?? 'auto'));
}

export async function loadBackbone(dir: string): Promise<{ folder: BackboneFolder; model: VisionTransformer }> {
  const folder = await loadBackboneFolder(dir);
  return { folder, model: VisionTransformer.fromTensors(folder.config, folder.tensors) };
}

/** The preprocessing a backbone's pretrained_cfg asks for (DESIGN.md: RGB, resize, [0,1], mean/std). */
export function preprocessFor(config: VitConfig): PreprocessConfig {
  return preprocessFromPretrained(config);
}

export async function openData(dir: string, config: VitConfig): Promise<ImageFolderDataset> {
  return openImageFolder(dir, preprocessFor(config));
}

export async function readAdapter(path: string): Promise<AdapterFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `no such adapter file '${path}'` : `cannot read '${path}': ${errorMessage(err)}`);
  }
  try {
    return decodeAdapter(bytes);
  } catch (err) {
    throw new CliError(`'${path}' is not a valid fedsnell adapter: ${errorMessage(err)}`);
  }
}

/** Adapter head size, or the backbone's own. */
export function headClasses(adapter: AdapterFile | undefined, config: VitConfig): number {
  const head = adapter?.tensors.get('head.weight');
  return head ? head.shape[0] : config.numClasses;
}
