import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TensorMap } from '@fedsnell/tensor-io';
import { parseSafetensors, serializeSafetensors, sha256Hex } from '@fedsnell/tensor-io';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { resolveVitConfig, VitConfig } from './config';
import { checkVitTensors } from './weights';
import { errorMessage } from '@fedsnell/util';

export interface BackboneFolder {
  config: VitConfig;
  /** config.json as parsed, for writing back out (merge) unchanged where we do not touch it. */
  configJson: Record<string, unknown>;
  /** Every tensor of model.safetensors as float32, in file order. */
  tensors: TensorMap;
  /** Lower-case hex SHA-256 of model.safetensors: the backbone's id. */
  sha256: string;
  /** Tensors in the file that the model does not use. */
  unusedTensors: string[];
}

async function readOrFail(dir: string, file: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`loadBackboneFolder(): '${dir}' has no ${file} (a backbone folder holds config.json + model.safetensors)`);
    throw new Error(`loadBackboneFolder(): cannot read ${join(dir, file)}: ${errorMessage(error)}`);
  }
}

/** Reads a timm Hugging Face layout folder (`config.json` + `model.safetensors`, F32/F16/BF16). */
export async function loadBackboneFolder(dir: string): Promise<BackboneFolder> {
  const configText = await readOrFail(dir, 'config.json');
  let configJson: unknown;
  try {
    configJson = JSON.parse(configText.toString('utf8'));
  } catch (error) {
    throw new Error(`loadBackboneFolder(): ${join(dir, 'config.json')} is not valid JSON: ${errorMessage(error)}`);
  }
  if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson)) {
    throw new Error(`loadBackboneFolder(): ${join(dir, 'config.json')} must hold a JSON object`);
  }
  let config: VitConfig;
  try {
    config = resolveVitConfig(configJson);
  } catch (error) {
    throw new Error(`loadBackboneFolder(): ${join(dir, 'config.json')}: ${errorMessage(error)}`);
  }
  const bytes = await readOrFail(dir, 'model.safetensors');
  let tensors: TensorMap;
  try {
    tensors = parseSafetensors(bytes).tensors;
  } catch (error) {
    throw new Error(`loadBackboneFolder(): ${join(dir, 'model.safetensors')} is not readable safetensors: ${errorMessage(error)}`);
  }
  const unusedTensors = checkVitTensors(config, tensors, `loadBackboneFolder('${dir}')`);
  return { config, configJson: configJson as Record<string, unknown>, tensors, sha256: await sha256Hex(bytes), unusedTensors };
}

/**
 * Writes `config.json` + `model.safetensors` (F32, or F16 with `dtype`) into `dir`, creating it; each
 * file atomically. Returns the bytes of model.safetensors written.
 */
export async function saveBackboneFolder(
  dir: string,
  configJson: Record<string, unknown>,
  tensors: TensorMap,
  options: { dtype?: 'F32' | 'F16' } = {},
): Promise<Uint8Array> {
  const config = resolveVitConfig(configJson);
  checkVitTensors(config, tensors, 'saveBackboneFolder()');
  await mkdir(dir, { recursive: true });
  const bytes = serializeSafetensors(tensors, { dtype: options.dtype ?? 'F32', metadata: { format: 'pt' } });
  await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  await writeFileAtomic(join(dir, 'config.json'), new TextEncoder().encode(`${JSON.stringify(configJson, null, 1)}\n`));
  return bytes;
}
