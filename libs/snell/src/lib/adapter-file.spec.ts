import { parseSafetensors, serializeSafetensors, type NamedTensor, type TensorMap } from '@fedsnell/tensor-io';
import { resolveSnellConfig } from './config';
import { decodeAdapter, encodeAdapter, type AdapterFile } from './adapter-file';

const t = (shape: number[], fill = 0.5): NamedTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });

/** Two modules of a 4-wide toy block at rank 4 in 2 heads, plus a 3-class head and cls_token. */
function adapter(): AdapterFile {
  const tensors: TensorMap = new Map([
    ['blocks.0.attn.q.snell_A', t([2, 4, 2])],
    ['blocks.0.attn.q.snell_B', t([2, 4, 2])],
    ['blocks.0.mlp.fc1.snell_A', t([2, 4, 2])],
    ['blocks.0.mlp.fc1.snell_B', t([2, 16, 2])],
    ['head.weight', t([3, 4])],
    ['head.bias', t([3])],
    ['cls_token', t([1, 1, 4])],
  ]);
  return {
    config: resolveSnellConfig({ rank: 4 }),
    modules: ['blocks.0.attn.q', 'blocks.0.mlp.fc1'],
    tensors,
    extra: { backbone: 'ab12', classes: ['a', 'b', 'c'], round: 3 },
  };
}

/** Bytes of a file with the given fedsnell metadata object and tensors (bypassing validation). */
function rawFile(meta: unknown, tensors: TensorMap = adapter().tensors): Uint8Array {
  return serializeSafetensors(tensors, { metadata: { fedsnell: typeof meta === 'string' ? meta : JSON.stringify(meta) } });
}

const goodMeta = () => ({
  format: 'fedsnell-adapter',
  version: 1,
  kernel: 'distance',
  p: 2,
  scale: 0.1,
  heads: 2,
  rank: 4,
  sparsity: 0.9,
  modules: ['blocks.0.attn.q', 'blocks.0.mlp.fc1'],
});

describe('adapter file', () => {
  it('round-trips config, modules, tensors and extra keys', () => {
    const a = adapter();
    const back = decodeAdapter(encodeAdapter(a));
    expect(back.config).toEqual(a.config);
    expect(back.modules).toEqual(a.modules);
    expect(back.extra).toEqual(a.extra);
    expect([...back.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    expect(back.tensors.get('blocks.0.mlp.fc1.snell_B')).toEqual(a.tensors.get('blocks.0.mlp.fc1.snell_B'));
  });

  it('writes the pinned metadata', () => {
    const meta = JSON.parse(parseSafetensors(encodeAdapter(adapter())).metadata['fedsnell']);
    expect(meta).toMatchObject({ ...goodMeta(), threshold: 'reference', backbone: 'ab12', round: 3 });
  });

  it('reads a file without threshold as the reference threshold', () => {
    expect(decodeAdapter(rawFile(goodMeta())).config.threshold).toBe('reference');
  });

  it('accepts an adapter without dense trainables', () => {
    const a = adapter();
    for (const name of ['head.weight', 'head.bias', 'cls_token']) a.tensors.delete(name);
    expect(decodeAdapter(encodeAdapter(a)).tensors.size).toBe(4);
  });

  it('writes F16 when asked', () => {
    expect(parseSafetensors(encodeAdapter(adapter(), { dtype: 'F16' })).tensors.get('head.bias')?.dtype).toBe('F16');
  });

  const withTensors = (edit: (m: TensorMap) => void) => {
    const m = adapter().tensors;
    edit(m);
    return rawFile(goodMeta(), m);
  };

  it.each<[string, () => Uint8Array, string]>([
    ['not safetensors', () => new TextEncoder().encode('hello'), 'decodeAdapter(): not a safetensors file'],
    ['no fedsnell metadata', () => serializeSafetensors(adapter().tensors, { metadata: {} }), "decodeAdapter(): __metadata__ has no 'fedsnell' entry"],
    ['invalid JSON', () => rawFile('{nope'), 'decodeAdapter(): __metadata__.fedsnell is not valid JSON'],
    ['wrong format', () => rawFile({ ...goodMeta(), format: 'lora' }), 'decodeAdapter(): format must be \'fedsnell-adapter\' but got "lora"'],
    ['wrong version', () => rawFile({ ...goodMeta(), version: 2 }), 'decodeAdapter(): version must be 1 but got 2'],
    ['unknown kernel', () => rawFile({ ...goodMeta(), kernel: 'rbf' }), 'decodeAdapter(): fedsnell metadata: kernel must be \'distance\' or \'linear\' but got "rbf"'],
    ['missing rank', () => rawFile({ ...goodMeta(), rank: undefined }), "decodeAdapter(): fedsnell metadata lacks 'rank'"],
    ['sparsity out of range', () => rawFile({ ...goodMeta(), sparsity: 1.2 }), 'decodeAdapter(): fedsnell metadata: sparsity must be in [0, 1) but got 1.2'],
    ['bad module name', () => rawFile({ ...goodMeta(), modules: ['blocks.0.attn.qkv'] }), "decodeAdapter(): module name 'blocks.0.attn.qkv' must be blocks.{i}.attn.q|k|v|proj or blocks.{i}.mlp.fc1|fc2"],
    ['name without prefix', () => rawFile({ ...goodMeta(), modules: ['q'] }), 'decodeAdapter(): module name "q" is not of the form <prefix>.<name>'],
    ['no modules', () => rawFile({ ...goodMeta(), modules: [] }), 'decodeAdapter(): modules must be a non-empty array of names but got []'],
    ['missing factor', () => withTensors((m) => m.delete('blocks.0.attn.q.snell_B')), "decodeAdapter(): tensor 'blocks.0.attn.q.snell_B' is missing for listed module 'blocks.0.attn.q'"],
    ['unlisted factor', () => withTensors((m) => m.set('blocks.1.attn.k.snell_A', t([2, 4, 2]))), "decodeAdapter(): tensor 'blocks.1.attn.k.snell_A' belongs to a module not listed in the metadata"],
    ['unknown tensor', () => withTensors((m) => m.set('norm.weight', t([4]))), "decodeAdapter(): tensor 'norm.weight' is not a fedsnell trainable"],
    ['wrong head width', () => withTensors((m) => m.set('blocks.0.attn.q.snell_A', t([2, 4, 4]))), "decodeAdapter(): tensor 'blocks.0.attn.q.snell_A' must have shape [2, in, 2] (heads, in, rank/heads) but has [2, 4, 4]"],
    ['wrong heads', () => withTensors((m) => m.set('blocks.0.attn.q.snell_B', t([1, 4, 2]))), "decodeAdapter(): tensor 'blocks.0.attn.q.snell_B' must have shape [2, out, 2] (heads, out, rank/heads) but has [1, 4, 2]"],
    ['NaN value', () => withTensors((m) => m.set('blocks.0.attn.q.snell_A', t([2, 4, 2], NaN))), "decodeAdapter(): tensor 'blocks.0.attn.q.snell_A' has a non-finite value NaN at index 0"],
    ['head bias mismatch', () => withTensors((m) => m.set('head.bias', t([5]))), "decodeAdapter(): tensor 'head.bias' must be [3] but has shape [5]"],
    ['bad cls_token', () => withTensors((m) => m.set('cls_token', t([1, 4]))), "decodeAdapter(): tensor 'cls_token' must be [1, 1, 4] but has shape [1, 4]"],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => decodeAdapter(bytes())).toThrow(message);
  });

  it('names the error class AdapterFormatError', () => {
    expect(() => decodeAdapter(new Uint8Array(3))).toThrow(expect.objectContaining({ name: 'AdapterFormatError' }));
  });

  it('refuses to encode an invalid adapter', () => {
    const a = adapter();
    a.tensors.delete('blocks.0.mlp.fc1.snell_A');
    expect(() => encodeAdapter(a)).toThrow("encodeAdapter(): tensor 'blocks.0.mlp.fc1.snell_A' is missing for listed module 'blocks.0.mlp.fc1'");
  });

  it('refuses extra keys that shadow pinned ones', () => {
    const a = { ...adapter(), extra: { rank: 99 } };
    expect(() => encodeAdapter(a)).toThrow("encodeAdapter(): extra key 'rank' collides with a pinned metadata key");
  });
});
