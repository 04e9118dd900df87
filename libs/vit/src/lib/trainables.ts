import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import { createRng, factorNames, initSnellFactors } from '@fedsnell/snell';
import type { VisionTransformer } from './model';
import { ADAPTER_MODULES, adapterModuleShape, adapterModules, vitTensorShapes } from './weights';
import { truncNormal } from './init';

export interface TrainableOptions {
  numClasses: number;
  seed: number;
  /**
   * Modules to adapt: full names (`blocks.3.mlp.fc1`) or kinds applied to every block (`attn.q`).
   * Default: all six kinds in every block.
   */
  targets?: readonly string[];
  /**
   * Initialisation of the new head. 'reference' (default): what the SNELL code ends up with — its model
   * constructor runs timm's `_init_vit_weights` over every Linear, so the head weight is
   * trunc_normal(std 0.02) and the bias 0 (the pretrained head is not loaded when the class count
   * differs). 'pytorch': nn.Linear's own default, U(±1/√D) for weight and bias.
   */
  headInit?: 'reference' | 'pytorch';
  /**
   * Multiplies the reference factor initialisation bounds (default 1, the reference). A larger init
   * starts SNELL's ΔW — and its quadratic sparse update — further from zero.
   */
  factorInitScale?: number;
}

function uniform(shape: number[], bound: number, rng: () => number): NamedTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng() - 1) * bound;
  return { shape, data };
}

function checkClasses(fn: string, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses passed to ${fn} must be a positive integer but got ${numClasses}`);
  }
}

function newHead(embedDim: number, numClasses: number, init: 'reference' | 'pytorch', rng: () => number): [NamedTensor, NamedTensor] {
  if (init === 'pytorch') {
    const bound = 1 / Math.sqrt(embedDim);
    return [uniform([numClasses, embedDim], bound, rng), uniform([numClasses], bound, rng)];
  }
  if (init !== 'reference') throw new RangeError(`headInit passed to createTrainables() must be 'reference' or 'pytorch' but got ${JSON.stringify(init)}`);
  return [
    { shape: [numClasses, embedDim], data: truncNormal(numClasses * embedDim, 0.02, rng) },
    { shape: [numClasses], data: new Float32Array(numClasses) },
  ];
}

/** Resolves target names/kinds to module names in block order (duplicates collapse). */
export function resolveTargets(model: VisionTransformer, targets: readonly string[] | undefined): string[] {
  const all = adapterModules(model.config);
  if (!targets) return all;
  const chosen = new Set<string>();
  for (const t of targets) {
    if ((ADAPTER_MODULES as readonly string[]).includes(t)) {
      for (const m of all) if (m.endsWith(`.${t}`)) chosen.add(m);
    } else if (adapterModuleShape(model.config, t)) {
      chosen.add(t);
    } else {
      throw new RangeError(
        `targets passed to createTrainables() must be module kinds (${ADAPTER_MODULES.join(', ')}) or names like 'blocks.0.attn.q' below depth ${model.config.depth} but got '${t}'`,
      );
    }
  }
  return all.filter((m) => chosen.has(m));
}

/**
 * SNELL (or LoRA, with kernel 'linear') trainable state: `<module>.snell_A`/`.snell_B` with the
 * reference init, a new head, and the backbone's class token. Same seed, same tensors.
 */
export function createTrainables(model: VisionTransformer, cfg: SnellConfig, options: TrainableOptions): TensorMap {
  checkClasses('createTrainables()', options.numClasses);
  const rng = createRng(options.seed);
  const out: TensorMap = new Map();
  for (const m of resolveTargets(model, options.targets)) {
    const [inFeatures, outFeatures] = adapterModuleShape(model.config, m) as [number, number];
    const { A, B } = initSnellFactors(inFeatures, outFeatures, cfg, rng, options.factorInitScale ?? 1);
    const [nameA, nameB] = factorNames(m);
    out.set(nameA, A).set(nameB, B);
  }
  const [w, b] = newHead(model.config.embedDim, options.numClasses, options.headInit ?? 'reference', rng);
  out.set('head.weight', w).set('head.bias', b);
  out.set('cls_token', toNamed(model, 'cls_token'));
  return out;
}

/**
 * Full fine-tuning state: every backbone tensor by timm name (copies), with a new head. Combined with
 * `gradientMasks` in forward() it is also the mask-based sparse tuning baseline.
 */
export function createFullTrainables(model: VisionTransformer, options: Omit<TrainableOptions, 'targets'>): TensorMap {
  checkClasses('createFullTrainables()', options.numClasses);
  const out: TensorMap = new Map();
  for (const name of vitTensorShapes(model.config).keys()) {
    if (!name.startsWith('head.')) out.set(name, toNamed(model, name));
  }
  const [w, b] = newHead(model.config.embedDim, options.numClasses, options.headInit ?? 'reference', createRng(options.seed));
  out.set('head.weight', w).set('head.bias', b);
  return out;
}

function toNamed(model: VisionTransformer, name: string): NamedTensor {
  const t = model.backboneTensor(name);
  const data = t.dataSync() as Float32Array;
  const shape = [...t.shape];
  t.dispose();
  return { shape, data: Float32Array.from(data) };
}
