// The tiny timm fixture backbone as a task, its initial global state on the wire, and a small
// private ImageFolder whose file names are easy to spot if they ever leaked.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTensor, type RoundStart, type Task, type WireTensor } from '@fedsnell/protocol';
import { parseSafetensors } from '@fedsnell/tensor-io';
import { resolveSnellConfig } from '@fedsnell/snell';
import { createTrainables, resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import { writeImageFolder } from '@fedsnell/data/node';

export const FIXTURE_DIR = process.env['FEDSNELL_FIXTURE_DIR'] as string;
export const CLASSES = ['a', 'b', 'c', 'd', 'e'];
export const PRIVATE_MARK = 'private_img';

export interface Fixture {
  weights: Uint8Array;
  sha256: string;
  configJson: Record<string, unknown>;
  state: WireTensor[];
}

export function loadFixture(): Fixture {
  const weights = readFileSync(join(FIXTURE_DIR, 'model.safetensors'));
  const configJson = JSON.parse(readFileSync(join(FIXTURE_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
  const model = VisionTransformer.fromTensors(resolveVitConfig(configJson), parseSafetensors(weights).tensors);
  const snell = resolveSnellConfig({ heads: 2, rank: 4, sparsity: 0.5 });
  const trainables = createTrainables(model, snell, { numClasses: CLASSES.length, seed: 1, targets: ['attn.q', 'mlp.fc1'] });
  model.dispose();
  const state = [...trainables].map(([name, t]) => encodeTensor(name, t.shape, t.data));
  return { weights, sha256: createHash('sha256').update(weights).digest('hex'), configJson, state };
}

export function fixtureTask(f: Fixture, over: Partial<Task> = {}): Task {
  return {
    taskId: 'task-1',
    backbone: {
      sha256: f.sha256,
      url: `/backbone/${f.sha256}/model.safetensors`,
      configUrl: `/backbone/${f.sha256}/config.json`,
      bytes: f.weights.byteLength,
      config: f.configJson,
    },
    snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, targets: ['attn.q', 'mlp.fc1'] },
    trainer: { epochs: 1, batchSize: 8, lr: 0.001, weightDecay: 0, schedule: 'cosine', seed: 0 },
    data: { classes: CLASSES },
    updateDtype: 'f32',
    ...over,
  };
}

export function fixtureRound(f: Fixture, round = 0, over: Partial<RoundStart> = {}): RoundStart {
  return { taskId: 'task-1', round, deadline: Date.now() + 60_000, seed: 7, state: f.state, ...over };
}

/** `perClass` random 16×16 RGB images per class, named `private_img_<class>_<i>.png`. */
export async function writePrivateFolder(dir: string, classes = CLASSES, perClass = 3): Promise<void> {
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  const examples = classes.flatMap((c, label) =>
    Array.from({ length: perClass }, (_, i) => ({
      label,
      name: `${PRIVATE_MARK}_${c}_${i}`,
      image: { width: 16, height: 16, channels: 3 as const, data: Uint8Array.from({ length: 16 * 16 * 3 }, next) },
    })),
  );
  await writeImageFolder(dir, classes, examples);
}
