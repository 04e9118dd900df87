import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';
import type { SnellConfig } from '@fedsnell/snell';
import { computeSparseDelta, DENSE_TRAINABLES, factorNames, isDenseTrainable, parseFactorName } from '@fedsnell/snell';

export interface AdapterState {
  config: SnellConfig;
  tensors: TensorMap;
}

const FN = 'mergeAdapter()';

/** Target weight and row offset of an adapted module inside timm's fused layout. */
function targetOf(module: string): { weight: string; block: number } | undefined {
  const m = /^(blocks\.\d+)\.(attn\.(q|k|v|proj)|mlp\.fc[12])$/.exec(module);
  if (!m) return undefined;
  if (m[3] && m[3] !== 'proj') return { weight: `${m[1]}.attn.qkv.weight`, block: 'qkv'.indexOf(m[3]) };
  return { weight: `${module}.weight`, block: 0 };
}

/**
 * Folds an adapter into a backbone: W += S(ΔW)ᵀ per module (q/k/v into their row blocks of
 * attn.qkv.weight), and replaces head.weight, head.bias and cls_token when the adapter has them.
 * Pure: returns a new map; unchanged tensors are shared with the input, changed ones are copies.
 */
export function mergeAdapter(backbone: TensorMap, adapter: AdapterState): TensorMap {
  const deltas = new Map<string, SparseDelta>();
  const dense: TensorMap = new Map();
  for (const name of adapter.tensors.keys()) {
    const factor = parseFactorName(name);
    if (factor) {
      const [nameA, nameB] = factorNames(factor.module);
      if (factor.factor === 'B' && !adapter.tensors.has(nameA)) throw new Error(`${FN}: adapter has '${name}' without '${nameA}'`);
      if (factor.factor === 'A') {
        const module = factor.module;
        if (!targetOf(module)) throw new Error(`${FN}: adapter module '${module}' is not an adaptable ViT module (blocks.{i}.attn.q|k|v|proj, blocks.{i}.mlp.fc1|fc2)`);
        const B = adapter.tensors.get(nameB);
        if (!B) throw new Error(`${FN}: adapter has '${nameA}' without '${nameB}'`);
        const { delta, shape } = computeSparseDelta(adapter.tensors.get(name) as NamedTensor, B, adapter.config);
        deltas.set(module, { shape, data: delta });
      }
    } else if (isDenseTrainable(name)) {
      dense.set(name, adapter.tensors.get(name) as NamedTensor);
    } else {
      throw new Error(`${FN}: adapter tensor '${name}' is neither a SNELL factor nor one of ${DENSE_TRAINABLES.join(', ')}`);
    }
  }
  return foldSparseDeltas(backbone, deltas, dense, FN);
}

/** A module's sparse update S(ΔW), [in, out] row-major. */
export interface SparseDelta {
  shape: [number, number];
  data: Float32Array;
}

/**
 * Folds precomputed sparse updates into a backbone (W += Dᵀ, q/k/v into their row blocks of
 * attn.qkv.weight) and replaces the dense trainables given (head.weight, head.bias, cls_token). This
 * is how a coordinator evaluates an update that is not a factor pair, e.g. SNELL-exact's mean of the
 * clients' S(ΔW_k). Pure: unchanged tensors are shared with the input, changed ones are copies.
 */
export function foldSparseDeltas(
  backbone: TensorMap,
  deltas: ReadonlyMap<string, SparseDelta>,
  dense: TensorMap = new Map(),
  fn = 'foldSparseDeltas()',
): TensorMap {
  if (dense.has('head.weight') !== dense.has('head.bias')) {
    throw new Error(`${fn}: adapter must have head.weight and head.bias together`);
  }
  const out: TensorMap = new Map(backbone);
  for (const [module, { shape, data: delta }] of deltas) {
    const target = targetOf(module);
    if (!target) throw new Error(`${fn}: adapter module '${module}' is not an adaptable ViT module (blocks.{i}.attn.q|k|v|proj, blocks.{i}.mlp.fc1|fc2)`);
    const current = out.get(target.weight);
    if (!current || current.shape.length !== 2) throw new Error(`${fn}: backbone has no 2-D '${target.weight}' for adapter module '${module}'`);
    const [inFeatures, outFeatures] = shape;
    const fused = target.weight.endsWith('attn.qkv.weight');
    const rows = fused ? 3 * outFeatures : outFeatures;
    if (current.shape[0] !== rows || current.shape[1] !== inFeatures || delta.length !== inFeatures * outFeatures) {
      throw new Error(`${fn}: adapter module '${module}' is [in ${inFeatures}, out ${outFeatures}] so '${target.weight}' must be [${rows}, ${inFeatures}] but is [${current.shape}]`);
    }
    const rowOffset = target.block * outFeatures;
    // Copy once per weight: several modules (q, k, v) may fold into the same tensor.
    const data = current === backbone.get(target.weight) ? Float32Array.from(current.data) : current.data;
    for (let o = 0; o < outFeatures; o++) {
      const row = (rowOffset + o) * inFeatures;
      for (let i = 0; i < inFeatures; i++) data[row + i] += delta[i * outFeatures + o];
    }
    out.set(target.weight, { shape: [...current.shape], data });
  }
  for (const name of DENSE_TRAINABLES) {
    const t = dense.get(name);
    if (!t) continue;
    const old = backbone.get(name);
    if (name === 'cls_token' && old && old.shape.join() !== t.shape.join()) {
      throw new Error(`${fn}: adapter cls_token is [${t.shape}] but the backbone's is [${old.shape}]`);
    }
    out.set(name, { shape: [...t.shape], data: Float32Array.from(t.data) });
  }
  return out;
}

/**
 * config.json for a merged backbone: num_classes set everywhere timm reads it (top level,
 * model_args, pretrained_cfg), and `label_names` (timm's Hub key) when class names are given.
 */
export function mergedConfigJson(configJson: Record<string, unknown>, numClasses: number, classNames?: readonly string[]): Record<string, unknown> {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses passed to mergedConfigJson() must be a positive integer but got ${numClasses}`);
  }
  if (classNames && classNames.length !== numClasses) {
    throw new RangeError(`classNames passed to mergedConfigJson() must have ${numClasses} entries but got ${classNames.length}`);
  }
  const out = structuredClone(configJson);
  out['num_classes'] = numClasses;
  for (const key of ['model_args', 'pretrained_cfg']) {
    const section = out[key];
    if (typeof section === 'object' && section !== null && !Array.isArray(section)) {
      if (key === 'model_args' || 'num_classes' in section) (section as Record<string, unknown>)['num_classes'] = numClasses;
    }
  }
  if (classNames) out['label_names'] = [...classNames];
  return out;
}
