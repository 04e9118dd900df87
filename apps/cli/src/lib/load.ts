import { readFile } from 'node:fs/promises';
import { useBackend, parseBackendChoice, type BackendName } from '@fedsnell/backends';
import { decodeAdapter, type AdapterFile } from '@fedsnell/snell';
import { VisionTransformer, type VitConfig } from '@fedsnell/vit';
import { loadBackboneFolder, type BackboneFolder } from '@fedsnell/vit/node';
import { join } from 'node:path';
import { openImageFolder, type ImageFolderDataset } from '@fedsnell/data/node';
import { ImageFolderError, preprocessFromPretrained, type PreprocessConfig } from '@fedsnell/data';
import { CliError } from './run';
import { resolveWorkers } from '@fedsnell/train/node';
import { errorMessage } from '@fedsnell/util';

export async function selectBackend(choice: string | undefined): Promise<BackendName> {
  return useBackend(parseBackendChoice(choice ?? 'auto'));
}

/**
 * `--workers` and `--backend` of a training command: worker threads each run their own wasm or cpu
 * backend, so more than one worker with any other backend is refused in one line.
 */
export async function selectTrainingCompute(workersFlag: string, backendFlag: string | undefined): Promise<{ workers: number; backend: BackendName }> {
  let workers: number;
  try {
    workers = resolveWorkers(workersFlag, '--workers');
  } catch (error) {
    throw new CliError(errorMessage(error));
  }
  const backend = await selectBackend(backendFlag);
  if (workers > 1 && backend !== 'wasm' && backend !== 'cpu') {
    throw new CliError(`--workers ${workers} runs wasm or cpu in worker threads; choose --backend wasm or cpu (got ${backend})`);
  }
  return { workers, backend };
}

/** Loads a timm-layout backbone folder given with `flag`; a transformers checkpoint gets a message saying what to use instead. */
export async function loadBackbone(dir: string, flag = '--backbone'): Promise<{ folder: BackboneFolder; model: VisionTransformer }> {
  let folder: BackboneFolder;
  try {
    folder = await loadBackboneFolder(dir);
  } catch (error) {
    throw (await transformersCheckpointError(dir, flag)) ?? error;
  }
  return { folder, model: VisionTransformer.fromTensors(folder.config, folder.tensors) };
}

/**
 * A Hugging Face `transformers` checkpoint (config.json with `model_type` / `architectures`, no timm
 * `architecture`) is another layout with other tensor names: say so, and how to get timm's.
 */
export async function transformersCheckpointError(dir: string, flag: string): Promise<CliError | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const config = json as Record<string, unknown>;
  const modelType = config['model_type'];
  const architectures = config['architectures'];
  if (typeof config['architecture'] === 'string' || (typeof modelType !== 'string' && !Array.isArray(architectures))) return undefined;
  const what = [typeof modelType === 'string' ? `model_type '${modelType}'` : '', Array.isArray(architectures) ? `architectures ${architectures.join(', ')}` : '']
    .filter(Boolean)
    .join(', ');
  return new CliError(
    `${flag} ${dir} is a Hugging Face transformers checkpoint (${what}), but fedsnell reads timm's layout: config.json with "architecture" ` +
      `(e.g. "vit_base_patch16_224") and model.safetensors with timm's tensor names. Download a timm/… repository from the Hub ` +
      `(e.g. huggingface-cli download timm/vit_base_patch16_224.augreg2_in21k_ft_in1k --local-dir DIR) or write one with ` +
      `timm.models.save_for_hf(timm.create_model(NAME, pretrained=True), DIR, safe_serialization=True)`,
    { code: 'BACKBONE_FORMAT' },
  );
}

/** The preprocessing a backbone's pretrained_cfg asks for (DESIGN.md: RGB, resize, [0,1], mean/std). */
export function preprocessFor(config: VitConfig): PreprocessConfig {
  return preprocessFromPretrained(config);
}

export interface OpenDataOptions {
  /** the flag that named the folder, for messages (default --data) */
  flag?: string;
  /** keep classes whose folder holds no image */
  allowEmpty?: boolean;
  /** the command's flag that sets allowEmpty, suggested when classes are empty */
  allowEmptyFlag?: string;
}

export async function openData(dir: string, config: VitConfig, options: OpenDataOptions = {}): Promise<ImageFolderDataset> {
  try {
    return await openImageFolder(dir, preprocessFor(config), { allowEmpty: options.allowEmpty });
  } catch (error) {
    throw dataFolderError(error, options);
  }
}

/** An ImageFolder failure in the words of the command line: the flag, the folder, what to do. */
export function dataFolderError(error: unknown, options: OpenDataOptions = {}): unknown {
  if (!(error instanceof ImageFolderError)) return error;
  const flag = options.flag ?? '--data';
  const layout = 'an ImageFolder (one sub-folder of .png/.jpg/.jpeg images per class)';
  const message = ((): string => {
    switch (error.code) {
      case 'MISSING':
        return `${flag}: nothing is at ${error.root}; it must be ${layout}`;
      case 'NOT_A_FOLDER':
        return `${flag}: ${error.root} is not a folder; it must be ${layout}`;
      case 'NO_CLASSES':
        return `${flag}: ${error.root} has no class sub-folders; it must be ${layout}`;
      case 'NO_IMAGES':
        return `${flag}: no class folder of ${error.root} holds a .png/.jpg/.jpeg image`;
      case 'EMPTY_CLASSES':
        return (
          `${flag}: class${error.emptyClasses.length > 1 ? 'es' : ''} ${error.emptyClasses.join(', ')} of ${error.root} hold${error.emptyClasses.length > 1 ? '' : 's'} no .png/.jpg/.jpeg image` +
          (options.allowEmptyFlag ? `; pass ${options.allowEmptyFlag} to keep empty classes (their labels stay reserved)` : '; every class needs at least one image here')
        );
    }
  })();
  return new CliError(message, { code: 'DATA' });
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
