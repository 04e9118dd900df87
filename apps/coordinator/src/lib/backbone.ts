import { stat } from 'node:fs/promises';
import { sha256File } from '@fedsnell/tensor-io/node';
import { backboneFiles, type BackboneFiles } from './backbone-http';
import type { CoordinatorOptions } from './options';
import { errorMessage } from '@fedsnell/util';

/** Reads and checks the backbone once at start: a wrong sha256 would fail every client later. */
export async function loadBackbone(options: CoordinatorOptions): Promise<BackboneFiles> {
  const { sha256, configJson, weightsPath } = options.backbone;
  try {
    JSON.parse(configJson);
  } catch (error) {
    throw new Error(`backbone.configJson passed to createCoordinator() must be JSON but parsing failed: ${errorMessage(error)}`);
  }
  const size = (await stat(weightsPath)).size;
  const actual = await sha256File(weightsPath);
  if (actual !== sha256) throw new Error(`backbone.sha256 passed to createCoordinator() must be the sha256 of ${weightsPath} (${actual}) but got ${sha256}`);
  return backboneFiles(sha256, configJson, weightsPath, size);
}
