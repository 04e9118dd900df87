// Test helper (jest globals): `@fedsnell/backends/testing`. Not part of the library's runtime API.
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './lib/backend';
import type { BackendName } from './lib/env';

export interface BackendTestOptions {
  /** the backends to run on; default cpu and wasm */
  backends?: readonly BackendName[];
  /**
   * also run on WebGPU where the test machine has an adapter (SwiftShader through Dawn, which
   * jest.preset.cjs announces in FEDSNELL_TEST_WEBGPU); software WebGPU is slow, so blocks opt in
   */
  webgpu?: boolean;
  /** fail a test that leaves more (or fewer) tensors than it found; default true */
  leakCheck?: boolean;
}

/** The backends describeOnBackends runs a block on. */
export function testBackends(options: BackendTestOptions = {}): BackendName[] {
  const base = [...(options.backends ?? (['cpu', 'wasm'] as const))];
  if (options.webgpu && process.env['FEDSNELL_TEST_WEBGPU'] === '1' && !base.includes('webgpu')) base.push('webgpu');
  return base;
}

/** Counts live tensors at start() and throws at check() if the count changed. */
export function tensorLeakGuard(backend: string): { start(): void; check(): void } {
  let before = 0;
  return {
    start() {
      before = tf.memory().numTensors;
    },
    check() {
      const change = tf.memory().numTensors - before;
      if (change > 0) throw new Error(`${change} tensor(s) leaked on ${backend}`);
      if (change < 0) throw new Error(`${-change} tensor(s) disposed on ${backend} that the test did not make`);
    },
  };
}

/**
 * `describe` once per backend (as tfjs's describeWithFlags over ALL_ENVS): the block runs with that
 * backend active, and every test in it fails if the number of live tensors differs after the test,
 * hooks included. The block gets the backend's name, e.g. for per-backend tolerances.
 */
export function describeOnBackends(name: string, fn: (backend: BackendName) => void, options: BackendTestOptions = {}): void {
  const leakCheck = options.leakCheck ?? true;
  for (const backend of testBackends(options)) {
    describe(`${name} on ${backend}`, () => {
      beforeAll(async () => {
        await useBackend(backend);
      });
      if (leakCheck) {
        const guard = tensorLeakGuard(backend);
        beforeEach(() => guard.start());
        afterEach(() => guard.check());
      }
      fn(backend);
    });
  }
}
