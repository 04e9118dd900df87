import * as tf from '@tensorflow/tfjs';
import { describeOnBackends, tensorLeakGuard, testBackends } from './testing';

describe('testBackends', () => {
  it('runs on cpu and wasm by default', () => {
    expect(testBackends()).toEqual(['cpu', 'wasm']);
  });

  it('adds webgpu only on request and where the test machine has an adapter', () => {
    const saved = process.env['FEDSNELL_TEST_WEBGPU'];
    try {
      process.env['FEDSNELL_TEST_WEBGPU'] = '1';
      expect(testBackends({ webgpu: true })).toEqual(['cpu', 'wasm', 'webgpu']);
      expect(testBackends()).toEqual(['cpu', 'wasm']);
      delete process.env['FEDSNELL_TEST_WEBGPU'];
      expect(testBackends({ webgpu: true })).toEqual(['cpu', 'wasm']);
    } finally {
      if (saved === undefined) delete process.env['FEDSNELL_TEST_WEBGPU'];
      else process.env['FEDSNELL_TEST_WEBGPU'] = saved;
    }
  });
});

const seen: string[] = [];

describeOnBackends('describeOnBackends', (backend) => {
  it('makes the named backend active', () => {
    seen.push(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it('lets a test that disposes what it makes pass', () => {
    const t = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
    expect(t.dataSync()[0]).toBe(3);
    t.dispose();
  });
});

describe('tensorLeakGuard', () => {
  it('fails when a tensor outlives the test and passes once it is disposed', () => {
    const guard = tensorLeakGuard('cpu');
    guard.start();
    const t = tf.scalar(1);

    expect(() => guard.check()).toThrow('1 tensor(s) leaked on cpu');
    t.dispose();
    expect(() => guard.check()).not.toThrow();
  });

  it('fails when the test disposes a tensor it did not make', () => {
    const t = tf.scalar(1);
    const guard = tensorLeakGuard('wasm');
    guard.start();
    t.dispose();

    expect(() => guard.check()).toThrow('1 tensor(s) disposed on wasm that the test did not make');
  });
});

describe('describeOnBackends blocks', () => {
  it('ran once per backend', () => {
    expect(seen).toEqual(['cpu', 'wasm']);
  });
});
