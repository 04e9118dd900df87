import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { loadBackboneFolder } from './backbone-folder';
import { VisionTransformer } from './model';
import { describeOnBackends } from '@fedsnell/backends/testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;

// WebGPU runs on SwiftShader in CI (slow): one forward of the fixture only.
describeOnBackends('VisionTransformer', () => {
  it('reproduces the timm fixture logits', async () => {
    tf.engine().startScope();
    try {
      const reference = JSON.parse(readFileSync(`${FIXTURE}/reference.json`, 'utf8')) as { input_nchw: number[][][][]; logits: number[][] };
      const folder = await loadBackboneFolder(FIXTURE);
      const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
      const x = tf.tensor4d(reference.input_nchw);
      const y = model.forward(x);
      const logits = (await y.array()) as number[][];
      expect(tf.getBackend()).toBe('webgpu');
      const expected = reference.logits.flat();
      const scale = Math.max(...expected.map(Math.abs));
      const err = Math.max(...logits.flat().map((v, i) => Math.abs(v - expected[i]))) / scale;
      expect(err).toBeLessThan(1e-4);
      tf.dispose([x, y]);
      model.dispose();
    } finally {
      tf.engine().endScope();
    }
  });
}, { backends: [], webgpu: true });
