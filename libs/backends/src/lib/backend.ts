// The tfjs union package registers the gradients and chained ops that tfjs-core's CommonJS build lacks.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendChoice, BackendName, isNode, navigatorGpu } from './env';
import { installNodeWebGpu, nodeWasmDir } from './node-platform';
import { shareWasmIdentity } from './wasm-identity';

// before any wasm tensor exists: saved-for-backward tensors share buffers instead of copying them
shareWasmIdentity();

const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'cpu', 'webgl'];

export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`backend must be one of ${BACKEND_CHOICES.join('|')} but got '${value}'`);
}

let wasmPathsSet = false;
function prepareWasm(): void {
  if (wasmPathsSet) return;
  // In Node the wasm backend loads its binaries from the package folder.
  const dir = nodeWasmDir();
  if (dir === undefined) return;
  setWasmPaths(dir);
  wasmPathsSet = true;
}

let webgpuRegistered: Promise<boolean> | undefined;
let softwareAdapter = false;

/**
 * Registers the tfjs WebGPU backend when the platform exposes an adapter; resolves false otherwise.
 * Notes whether the adapter is a software fallback (SwiftShader), which 'auto' does not pick.
 */
export function registerWebGpu(): Promise<boolean> {
  webgpuRegistered ??= (async () => {
    if (isNode && !navigatorGpu()) installNodeWebGpu();
    const gpu = navigatorGpu();
    if (!gpu) return false;
    let adapter: unknown = null;
    try {
      adapter = await gpu.requestAdapter();
    } catch {
      adapter = null;
    }
    if (!adapter) return false;
    softwareAdapter = isSoftwareAdapter(adapter);
    // Registration happens at import time and only when navigator.gpu exists, so import late.
    await import('@tensorflow/tfjs-backend-webgpu');
    return tf.findBackendFactory('webgpu') !== null;
  })();
  return webgpuRegistered;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; architecture?: string; description?: string };
}

/** A WebGPU adapter that a CPU rasterises (SwiftShader, fallback adapters). */
export function isSoftwareAdapter(adapter: unknown): boolean {
  const a = adapter as AdapterLike;
  const info = a.info ?? {};
  return (
    a.isFallbackAdapter === true ||
    info.isFallbackAdapter === true ||
    /swiftshader/i.test(`${info.architecture ?? ''} ${info.description ?? ''}`)
  );
}

/** True when WebGPU runs on a real GPU (not a software rasteriser such as SwiftShader). */
export async function hasHardwareWebGpu(): Promise<boolean> {
  return (await registerWebGpu()) && !softwareAdapter;
}

async function trySet(name: BackendName): Promise<boolean> {
  if (name === 'webgpu' && !(await registerWebGpu())) return false;
  if (name === 'wasm') prepareWasm();
  if (name === 'webgl' && tf.findBackendFactory('webgl') === null) return false;
  try {
    const ok = await tf.setBackend(name);
    // The cpu backend's first write advertises tfjs-node, a native build this project does not use.
    if (ok && name === 'cpu') Object.assign(tf.backend(), { firstUse: false });
    return ok;
  } catch {
    return false;
  }
}

/**
 * Selects the tfjs backend: an explicit name must work or this throws; 'auto' tries webgpu on a
 * hardware adapter (a software one such as SwiftShader is far slower than wasm), then (in browsers)
 * webgl, then wasm, then cpu.
 */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<BackendName> {
  const order: BackendName[] =
    choice === 'auto' ? (isNode ? ['webgpu', 'wasm', 'cpu'] : ['webgpu', 'webgl', 'wasm', 'cpu']) : [choice];
  for (const name of order) {
    if (choice === 'auto' && name === 'webgpu' && !(await hasHardwareWebGpu())) continue;
    if (tf.getBackend() === name) return name;
    if (await trySet(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new Error(`useBackend(): backend '${choice}' is not available on this platform`);
}

/** Backends that initialise here, in preference order (for tests that run once per backend). */
export async function availableBackends(): Promise<BackendName[]> {
  const previous = tf.getBackend();
  const found: BackendName[] = [];
  for (const name of ['cpu', 'wasm', 'webgpu'] as BackendName[]) {
    if (await trySet(name)) found.push(name);
  }
  if (previous) await tf.setBackend(previous);
  return found;
}
