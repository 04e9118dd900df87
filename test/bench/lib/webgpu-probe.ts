import { navigatorGpu, registerWebGpu } from '@fedsnell/backends';

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/**
 * Whether a real GPU adapter exists. Dawn's SwiftShader (CPU Vulkan) adapter does not count: it
 * would measure a software rasteriser, not a GPU.
 */
export async function realGpuAdapter(): Promise<{ ok: boolean; note: string }> {
  if (!(await registerWebGpu())) return { ok: false, note: 'no WebGPU adapter (Dawn found none)' };
  const gpu = navigatorGpu() as { requestAdapter(): Promise<{ info?: AdapterInfoLike } | null> } | undefined;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  const info = adapter?.info ?? {};
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
  if (!adapter) return { ok: false, note: 'no WebGPU adapter' };
  if (/swiftshader/i.test(text)) return { ok: false, note: `skipped: the only WebGPU adapter is SwiftShader (${text}), a CPU emulation` };
  return { ok: true, note: text };
}
