// Runtime facts, computed once: where we run and what the platform offers.
export type BackendName = 'webgpu' | 'wasm' | 'cpu' | 'webgl';
export type BackendChoice = 'auto' | BackendName;

export const isNode: boolean =
  typeof process !== 'undefined' && typeof process.versions === 'object' && process.versions.node !== undefined;

export const isBrowser: boolean = !isNode && typeof window !== 'undefined';

interface GpuNavigator {
  gpu?: { requestAdapter(options?: unknown): Promise<unknown> };
}

export function navigatorGpu(): GpuNavigator['gpu'] {
  const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
  return nav?.gpu;
}
