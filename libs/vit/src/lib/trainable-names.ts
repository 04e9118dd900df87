import type * as tf from '@tensorflow/tfjs';
import { factorNames, parseFactorName, type SnellConfig } from '@fedsnell/snell';
import type { VitConfig } from './config';
import { adapterModuleShape, vitTensorShapes } from './weights';

const WHERE = 'VisionTransformer.forward()';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Validates the names and shapes of per-call trainables (and gradient masks) before any compute:
 * an unknown name would otherwise be silently ignored and train nothing.
 */
export function checkTrainables(
  config: VitConfig,
  trainables: ReadonlyMap<string, tf.Tensor>,
  snell: SnellConfig | undefined,
  masks?: ReadonlyMap<string, tf.Tensor>,
): void {
  const backbone = vitTensorShapes(config);
  const d = config.embedDim;
  for (const [name, t] of trainables) {
    const factor = parseFactorName(name);
    if (factor) {
      const io = adapterModuleShape(config, factor.module);
      if (!io) throw new Error(`trainables passed to ${WHERE}: '${name}' names no adaptable module of ${config.architecture} (depth ${config.depth})`);
      if (!snell) throw new Error(`snell passed to ${WHERE} is required with adapter factor '${name}'`);
      const [nameA, nameB] = factorNames(factor.module);
      const partner = factor.factor === 'A' ? nameB : nameA;
      if (!trainables.has(partner)) throw new Error(`trainables passed to ${WHERE}: '${name}' needs '${partner}' too`);
      const features = factor.factor === 'A' ? io[0] : io[1];
      const want = [snell.heads, features, snell.rank / snell.heads];
      if (!sameShape(t.shape, want)) throw new Error(`trainables passed to ${WHERE}: '${name}' has shape [${t.shape}] but needs [${want}]`);
      continue;
    }
    if (name === 'head.weight' || name === 'head.bias') {
      const w = trainables.get('head.weight');
      const b = trainables.get('head.bias');
      if (!w || !b) throw new Error(`trainables passed to ${WHERE}: 'head.weight' and 'head.bias' must be given together`);
      if (w.rank !== 2 || w.shape[1] !== d || !sameShape(b.shape, [w.shape[0]])) {
        throw new Error(`trainables passed to ${WHERE}: head.weight [${w.shape}] / head.bias [${b.shape}] must be [classes, ${d}] / [classes]`);
      }
      continue;
    }
    const want = backbone.get(name);
    if (!want) throw new Error(`trainables passed to ${WHERE}: '${name}' is neither an adapter factor nor a tensor of ${config.architecture}`);
    if (!sameShape(t.shape, want)) throw new Error(`trainables passed to ${WHERE}: '${name}' has shape [${t.shape}] but needs [${want}]`);
  }
  for (const [name, m] of masks ?? []) {
    const t = trainables.get(name);
    if (!t) throw new Error(`gradientMasks passed to ${WHERE}: '${name}' is not among the trainables`);
    if (!sameShape(m.shape, t.shape)) throw new Error(`gradientMasks passed to ${WHERE}: '${name}' has shape [${m.shape}] but its trainable is [${t.shape}]`);
  }
}
