import * as tf from '@tensorflow/tfjs';
import { adaptedModules, factorNames, snellThreshold, type CompetitionThreshold, type SnellConfig } from '@fedsnell/snell';

/**
 * Competition thresholds of every adapter, read asynchronously — only where the backend cannot (or
 * should not) read synchronously inside the forward pass: WebGPU (no sync reads in Node; stalls in
 * browsers). On cpu/wasm the forward reads τ itself, which saves one merge per module and step.
 */
export async function thresholdsFor(
  trainables: ReadonlyMap<string, tf.Tensor>,
  snell: SnellConfig | undefined,
): Promise<Map<string, CompetitionThreshold> | undefined> {
  if (!snell || snell.sparsity === 0 || tf.getBackend() !== 'webgpu') return undefined;
  const out = new Map<string, CompetitionThreshold>();
  for (const module of adaptedModules(trainables.keys())) {
    const [a, b] = factorNames(module).map((name) => trainables.get(name));
    if (a && b) out.set(module, await snellThreshold(a as tf.Tensor3D, b as tf.Tensor3D, snell));
  }
  return out;
}
