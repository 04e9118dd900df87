import { parseSafetensors, serializeSafetensors, type NamedTensor, type TensorMap } from '@fedsnell/tensor-io';
import { DENSE_TRAINABLES, factorNames } from './adapter-names';
import { resolveSnellConfig, type SnellConfig } from './config';

/**
 * The pinned adapter file (DESIGN.md): `<module>.snell_A` [H, in, r/H], `<module>.snell_B`
 * [H, out, r/H], optional dense trainables, and `__metadata__["fedsnell"]` = JSON describing them.
 */
export interface AdapterFile {
  config: SnellConfig;
  modules: string[];
  /** Every tensor of the file: factors of each module and the optional dense trainables. */
  tensors: TensorMap;
  /** Further keys of the fedsnell metadata (backbone sha256, classes, round, metrics, strategy…), kept verbatim. */
  extra: Record<string, unknown>;
}

export const ADAPTER_FORMAT = 'fedsnell-adapter';
export const ADAPTER_VERSION = 1;

/** One-line reason why bytes or an AdapterFile are not a valid fedsnell adapter. */
export class AdapterFormatError extends Error {
  override readonly name = 'AdapterFormatError';
}

const PINNED_KEYS = ['format', 'version', 'kernel', 'p', 'scale', 'heads', 'rank', 'sparsity', 'threshold', 'modules'];
const MODULE_NAME = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/;
const BLOCK_MODULE = /^blocks\.(0|[1-9][0-9]*)\.(attn\.(q|k|v|proj)|mlp\.(fc1|fc2))$/;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function fail(fn: string, detail: string): never {
  throw new AdapterFormatError(`${fn}: ${detail}`);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function checkModules(fn: string, modules: unknown): string[] {
  if (!Array.isArray(modules) || modules.length === 0) fail(fn, `modules must be a non-empty array of names but got ${JSON.stringify(modules)}`);
  const seen = new Set<string>();
  for (const m of modules) {
    if (typeof m !== 'string' || !MODULE_NAME.test(m)) fail(fn, `module name ${JSON.stringify(m)} is not of the form <prefix>.<name>`);
    if (m.startsWith('blocks.') && !BLOCK_MODULE.test(m)) {
      fail(fn, `module name '${m}' must be blocks.{i}.attn.q|k|v|proj or blocks.{i}.mlp.fc1|fc2`);
    }
    if (seen.has(m)) fail(fn, `module '${m}' is listed twice`);
    seen.add(m);
  }
  return modules as string[];
}

function checkFinite(fn: string, name: string, t: NamedTensor): void {
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) fail(fn, `tensor '${name}' has a non-finite value ${t.data[i]} at index ${i}`);
  }
}

function checkDense(fn: string, tensors: TensorMap): void {
  const w = tensors.get('head.weight');
  const b = tensors.get('head.bias');
  const cls = tensors.get('cls_token');
  if (w && w.shape.length !== 2) fail(fn, `tensor 'head.weight' must be [classes, dim] but has shape ${shapeText(w.shape)}`);
  if (b && (b.shape.length !== 1 || (w && b.shape[0] !== w.shape[0]))) {
    fail(fn, `tensor 'head.bias' must be [${w ? w.shape[0] : 'classes'}] but has shape ${shapeText(b.shape)}`);
  }
  if (cls && (cls.shape.length !== 3 || cls.shape[0] !== 1 || cls.shape[1] !== 1 || (w && cls.shape[2] !== w.shape[1]))) {
    fail(fn, `tensor 'cls_token' must be [1, 1, ${w ? w.shape[1] : 'dim'}] but has shape ${shapeText(cls.shape)}`);
  }
}

/** Checks tensors against config and modules: A/B for each module with consistent shapes, nothing else. */
function checkTensors(fn: string, config: SnellConfig, modules: string[], tensors: TensorMap): void {
  const d = config.rank / config.heads;
  const expected = new Set<string>(DENSE_TRAINABLES);
  for (const m of modules) {
    const [nameA, nameB] = factorNames(m);
    expected.add(nameA);
    expected.add(nameB);
    for (const [name, dim] of [[nameA, 'in'], [nameB, 'out']] as const) {
      const t = tensors.get(name);
      if (!t) fail(fn, `tensor '${name}' is missing for listed module '${m}'`);
      const s = t.shape;
      if (s.length !== 3 || s[0] !== config.heads || s[2] !== d || !(s[1] >= 1)) {
        fail(fn, `tensor '${name}' must have shape [${config.heads}, ${dim}, ${d}] (heads, ${dim}, rank/heads) but has ${shapeText(s)}`);
      }
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) {
      const kind = /\.snell_[AB]$/.test(name) ? 'belongs to a module not listed in the metadata' : 'is not a fedsnell trainable';
      fail(fn, `tensor '${name}' ${kind}`);
    }
  }
  for (const [name, t] of tensors) checkFinite(fn, name, t);
  checkDense(fn, tensors);
}

function configFrom(fn: string, meta: Record<string, unknown>): SnellConfig {
  for (const key of ['kernel', 'p', 'scale', 'heads', 'rank', 'sparsity']) {
    if (!(key in meta)) fail(fn, `fedsnell metadata lacks '${key}'`);
  }
  try {
    return resolveSnellConfig(meta as Partial<SnellConfig>);
  } catch (error) {
    return fail(fn, `fedsnell metadata: ${messageOf(error).replace('passed to resolveSnellConfig() ', '')}`);
  }
}

/** Validates an AdapterFile as decodeAdapter would; throws AdapterFormatError. */
export function validateAdapter(a: AdapterFile, fn = 'validateAdapter()'): void {
  let config: SnellConfig;
  try {
    config = resolveSnellConfig(a.config);
  } catch (error) {
    return fail(fn, `config: ${messageOf(error).replace('passed to resolveSnellConfig() ', '')}`);
  }
  const modules = checkModules(fn, a.modules);
  for (const key of Object.keys(a.extra)) {
    if (PINNED_KEYS.includes(key)) fail(fn, `extra key '${key}' collides with a pinned metadata key`);
  }
  checkTensors(fn, config, modules, a.tensors);
}

/** The adapter as safetensors bytes (F32 unless options.dtype says F16). Validates first. */
export function encodeAdapter(a: AdapterFile, options: { dtype?: 'F32' | 'F16' } = {}): Uint8Array {
  validateAdapter(a, 'encodeAdapter()');
  const { kernel, p, scale, heads, rank, sparsity, threshold } = a.config;
  const meta = {
    format: ADAPTER_FORMAT,
    version: ADAPTER_VERSION,
    kernel,
    p,
    scale,
    heads,
    rank,
    sparsity,
    threshold,
    modules: a.modules,
    ...a.extra,
  };
  // Factors first, in module order, then the dense trainables: a stable, readable layout.
  const ordered: TensorMap = new Map();
  for (const m of a.modules) for (const name of factorNames(m)) ordered.set(name, a.tensors.get(name) as NamedTensor);
  for (const name of DENSE_TRAINABLES) {
    const t = a.tensors.get(name);
    if (t) ordered.set(name, t);
  }
  return serializeSafetensors(ordered, { metadata: { fedsnell: JSON.stringify(meta) }, dtype: options.dtype ?? 'F32' });
}

/** Parses and validates an adapter file; every problem is one AdapterFormatError line. */
export function decodeAdapter(bytes: Uint8Array): AdapterFile {
  const fn = 'decodeAdapter()';
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(bytes);
  } catch (error) {
    return fail(fn, `not a safetensors file (${messageOf(error)})`);
  }
  const raw = parsed.metadata['fedsnell'];
  if (raw === undefined) fail(fn, "__metadata__ has no 'fedsnell' entry: not a fedsnell adapter");
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    return fail(fn, "__metadata__.fedsnell is not valid JSON");
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail(fn, '__metadata__.fedsnell must be a JSON object');
  const m = meta as Record<string, unknown>;
  if (m['format'] !== ADAPTER_FORMAT) fail(fn, `format must be '${ADAPTER_FORMAT}' but got ${JSON.stringify(m['format'])}`);
  if (m['version'] !== ADAPTER_VERSION) fail(fn, `version must be ${ADAPTER_VERSION} but got ${JSON.stringify(m['version'])}`);
  const config = configFrom(fn, m);
  const modules = checkModules(fn, m['modules']);
  const tensors: TensorMap = new Map();
  for (const [name, t] of parsed.tensors) tensors.set(name, { shape: t.shape, data: t.data });
  checkTensors(fn, config, modules, tensors);
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(m)) if (!PINNED_KEYS.includes(key)) extra[key] = value;
  return { config, modules, tensors, extra };
}
