import type { TensorMap } from '@fedsnell/tensor-io';
import { sizeOf } from '@fedsnell/tensor-io';
import type { VitConfig } from './config';

/** The linear layers of a block that carry adapters, by their module name suffix. */
export const ADAPTER_MODULES = ['attn.q', 'attn.k', 'attn.v', 'attn.proj', 'mlp.fc1', 'mlp.fc2'] as const;
export type AdapterModule = (typeof ADAPTER_MODULES)[number];

/** Every tensor a timm VisionTransformer with this config holds, by timm name, in timm's order. */
export function vitTensorShapes(config: VitConfig): Map<string, number[]> {
  const { embedDim: d, patchSize: p, mlpHidden: h, numClasses: c } = config;
  const shapes = new Map<string, number[]>([
    ['cls_token', [1, 1, d]],
    ['pos_embed', [1, config.numTokens, d]],
    ['patch_embed.proj.weight', [d, 3, p, p]],
    ['patch_embed.proj.bias', [d]],
  ]);
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}`;
    shapes.set(`${b}.norm1.weight`, [d]).set(`${b}.norm1.bias`, [d]);
    shapes.set(`${b}.attn.qkv.weight`, [3 * d, d]);
    if (config.qkvBias) shapes.set(`${b}.attn.qkv.bias`, [3 * d]);
    shapes.set(`${b}.attn.proj.weight`, [d, d]).set(`${b}.attn.proj.bias`, [d]);
    shapes.set(`${b}.norm2.weight`, [d]).set(`${b}.norm2.bias`, [d]);
    shapes.set(`${b}.mlp.fc1.weight`, [h, d]).set(`${b}.mlp.fc1.bias`, [h]);
    shapes.set(`${b}.mlp.fc2.weight`, [d, h]).set(`${b}.mlp.fc2.bias`, [d]);
  }
  shapes.set('norm.weight', [d]).set('norm.bias', [d]);
  if (c > 0) shapes.set('head.weight', [c, d]).set('head.bias', [c]);
  return shapes;
}

/** [in, out] of an adapted module (`blocks.3.mlp.fc1`), or undefined for a name that is not one. */
export function adapterModuleShape(config: VitConfig, module: string): [number, number] | undefined {
  const m = /^blocks\.(\d+)\.(attn\.(?:q|k|v|proj)|mlp\.fc[12])$/.exec(module);
  if (!m || Number(m[1]) >= config.depth) return undefined;
  const { embedDim: d, mlpHidden: h } = config;
  const kind = m[2] as AdapterModule;
  return kind === 'mlp.fc1' ? [d, h] : kind === 'mlp.fc2' ? [h, d] : [d, d];
}

/** Every adaptable module name for a config, block by block. */
export function adapterModules(config: VitConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < config.depth; i++) for (const m of ADAPTER_MODULES) out.push(`blocks.${i}.${m}`);
  return out;
}

// Names a timm VisionTransformer variant may hold that this one does not: their presence means the
// weights belong to a different architecture than the config says, so they cannot be ignored.
const ARCHITECTURAL = /^(blocks\.|patch_embed\.|norm\.|fc_norm\.|norm_pre\.|head\.|head_drop|attn_pool\.|cls_token$|pos_embed$|reg_token$)/;

/**
 * Checks a weight map against a config: every expected tensor present with its exact shape and finite
 * values' storage length; extras that would change the network are rejected, others are returned as unused.
 */
export function checkVitTensors(config: VitConfig, tensors: TensorMap, where = 'VisionTransformer.fromTensors()'): string[] {
  const expected = vitTensorShapes(config);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${where}: missing tensor '${name}' (expected shape [${shape}] for ${config.architecture})`);
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new Error(`${where}: tensor '${name}' has shape [${t.shape}] but the config needs [${shape}]`);
    }
    if (t.data.length !== sizeOf(shape)) {
      throw new Error(`${where}: tensor '${name}' holds ${t.data.length} values but shape [${shape}] needs ${sizeOf(shape)}`);
    }
  }
  const unused: string[] = [];
  for (const name of tensors.keys()) {
    if (expected.has(name)) continue;
    if (ARCHITECTURAL.test(name)) {
      throw new Error(
        `${where}: tensor '${name}' is not part of ${config.architecture} with depth ${config.depth}, ` +
          `qkv_bias ${config.qkvBias}, num_classes ${config.numClasses}: the config contradicts the weights`,
      );
    }
    unused.push(name);
  }
  return unused;
}
