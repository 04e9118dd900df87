import * as tf from '@tensorflow/tfjs';
import { availableBackends, hasHardwareWebGpu, parseBackendChoice, useBackend } from '../index';
import { isSoftwareAdapter } from './backend';

describe('backends', () => {
  it('offers cpu and wasm in Node', async () => {
    const found = await availableBackends();
    expect(found).toEqual(expect.arrayContaining(['cpu', 'wasm']));
  });

  it('offers webgpu in Node when a Vulkan driver is configured', async () => {
    // scripts/setup.sh installs SwiftShader (Debian chromium) and jest.preset.cjs points Dawn at it
    expect(process.env['VK_ICD_FILENAMES']).toBeTruthy();
    expect(await availableBackends()).toContain('webgpu');
  });

  it('computes the same matMul on every available backend', async () => {
    const results: number[][] = [];
    for (const name of await availableBackends()) {
      await useBackend(name);
      const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
      results.push(Array.from(await y.data()));
      y.dispose();
    }
    for (const r of results) expect(r).toEqual([19, 22, 43, 50]);
  });

  it("'auto' picks webgpu only on a hardware adapter, else wasm", async () => {
    // without a GPU the only WebGPU adapter here is SwiftShader, far slower than wasm
    const hardware = await hasHardwareWebGpu();
    expect(await useBackend('auto')).toBe(hardware ? 'webgpu' : 'wasm');
  });

  it.each([
    [{ info: { architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } }, true],
    [{ info: { isFallbackAdapter: true } }, true],
    [{ isFallbackAdapter: true }, true],
    [{ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' } }, false],
  ])('tells software adapters from hardware ones (%j)', (adapter, software) => {
    expect(isSoftwareAdapter(adapter)).toBe(software);
  });

  it('rejects an unknown backend name', () => {
    expect(() => parseBackendChoice('tpu')).toThrow("backend must be one of auto|webgpu|wasm|cpu|webgl but got 'tpu'");
  });
});
