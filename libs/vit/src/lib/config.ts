/**
 * timm VisionTransformer configuration: the architecture table and `config.json` normalisation.
 * Normalisation happens once, here; the model only ever sees a resolved `VitConfig`.
 */
import { errorMessage } from '@fedsnell/util';

export interface VitArchitecture {
  imgSize: number;
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
}

export interface VitConfig {
  /** Architecture name without the pretrained tag (`vit_base_patch16_224`). */
  architecture: string;
  /** Pretrained tag after the dot in the name (`augreg_in21k_ft_in1k`), if any. */
  tag?: string;
  imgSize: [number, number];
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** fc1 width: embedDim · mlpRatio, as timm rounds it (int()). */
  mlpHidden: number;
  /** 0 means no head: forward returns the normalised class token. */
  numClasses: number;
  qkvBias: boolean;
  /** Patches per image (grid rows · grid columns); tokens = numPatches + 1 (class token). */
  numPatches: number;
  numTokens: number;
  inputSize: [number, number, number];
  mean: [number, number, number];
  std: [number, number, number];
  cropPct?: number;
  interpolation?: string;
}

type Size = 'tiny' | 'small' | 'base' | 'large' | 'huge';
const SIZES: Record<Size, { embedDim: number; depth: number; numHeads: number }> = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
  large: { embedDim: 1024, depth: 24, numHeads: 16 },
  huge: { embedDim: 1280, depth: 32, numHeads: 16 },
};

// The plain timm ViTs (class token, pre-norm, no layer scale, no registers): only names timm registers.
const REGISTERED: ReadonlyArray<[Size, number, number]> = [
  ['tiny', 16, 224], ['tiny', 16, 384],
  ['small', 32, 224], ['small', 32, 384], ['small', 16, 224], ['small', 16, 384], ['small', 8, 224],
  ['base', 32, 224], ['base', 32, 384], ['base', 16, 224], ['base', 16, 384], ['base', 8, 224],
  ['large', 32, 224], ['large', 32, 384], ['large', 16, 224], ['large', 16, 384], ['large', 14, 224],
  ['huge', 14, 224],
];

export const VIT_ARCHITECTURES: ReadonlyMap<string, VitArchitecture> = new Map(
  REGISTERED.map(([size, patchSize, imgSize]) => [
    `vit_${size}_patch${patchSize}_${imgSize}`,
    { imgSize, patchSize, ...SIZES[size] },
  ]),
);

// timm's VisionTransformer _cfg default (IMAGENET_INCEPTION_MEAN / _STD).
const DEFAULT_MEAN: [number, number, number] = [0.5, 0.5, 0.5];
const DEFAULT_STD: [number, number, number] = [0.5, 0.5, 0.5];

/** model_args keys that change nothing at inference or in our training (dropout rates, init scheme). */
const IGNORED_ARGS = new Set([
  'drop_rate', 'pos_drop_rate', 'patch_drop_rate', 'proj_drop_rate', 'attn_drop_rate', 'drop_path_rate',
  'weight_init', 'fix_init', 'in_chans',
]);

/** model_args values we support, with the one value each unsupported feature must have. */
const FIXED_ARGS: Record<string, unknown> = {
  class_token: true,
  global_pool: 'token',
  no_embed_class: false,
  pre_norm: false,
  fc_norm: null,
  init_values: null,
  reg_tokens: 0,
  qk_norm: false,
  dynamic_img_size: false,
  final_norm: true,
};

function fail(what: string): never {
  throw new Error(`resolveVitConfig(): ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    fail(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer but got ${JSON.stringify(v)}`);
  }
  return v;
}

function triple(name: string, v: unknown): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    fail(`${name} must be an array of 3 finite numbers but got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1], v[2]];
}

function imgSizeOf(v: unknown): [number, number] {
  if (typeof v === 'number') {
    const s = positiveInt('model_args.img_size', v);
    return [s, s];
  }
  if (Array.isArray(v) && v.length === 2) {
    return [positiveInt('model_args.img_size[0]', v[0]), positiveInt('model_args.img_size[1]', v[1])];
  }
  return fail(`model_args.img_size must be an integer or [height, width] but got ${JSON.stringify(v)}`);
}

/** Looks up a timm architecture name (a pretrained tag after a dot is allowed and stripped). */
export function vitArchitecture(name: string): VitArchitecture & { architecture: string; tag?: string } {
  const dot = name.indexOf('.');
  const architecture = dot < 0 ? name : name.slice(0, dot);
  const tag = dot < 0 ? undefined : name.slice(dot + 1);
  const arch = VIT_ARCHITECTURES.get(architecture);
  if (!arch) {
    const known = [...VIT_ARCHITECTURES.keys()];
    throw new Error(
      `vitArchitecture(): unknown architecture '${name}'; known: ${known.slice(0, 6).join(', ')}, ... (${known.length} in all)`,
    );
  }
  return tag === undefined ? { ...arch, architecture } : { ...arch, architecture, tag };
}

/**
 * Resolves a timm `config.json` (parsed) into a `VitConfig`: the architecture's defaults, then
 * `model_args` overrides, checked against `num_classes` and `pretrained_cfg`.
 */
export function resolveVitConfig(json: unknown): VitConfig {
  if (!isRecord(json)) fail(`config must be a JSON object but got ${JSON.stringify(json)}`);
  if (typeof json['architecture'] !== 'string') {
    fail(`architecture must be a string but got ${JSON.stringify(json['architecture'])}`);
  }
  let base: ReturnType<typeof vitArchitecture>;
  try {
    base = vitArchitecture(json['architecture']);
  } catch (e) {
    return fail(errorMessage(e).replace(/^vitArchitecture\(\): /, ''));
  }
  const args = json['model_args'] ?? {};
  if (!isRecord(args)) fail(`model_args must be an object but got ${JSON.stringify(args)}`);

  let imgSize: [number, number] = [base.imgSize, base.imgSize];
  let { patchSize, embedDim, depth, numHeads } = base;
  let mlpRatio = 4;
  let qkvBias = true;
  const classCounts: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(args)) {
    switch (key) {
      case 'img_size': imgSize = imgSizeOf(value); break;
      case 'patch_size': patchSize = positiveInt('model_args.patch_size', value); break;
      case 'embed_dim': embedDim = positiveInt('model_args.embed_dim', value); break;
      case 'depth': depth = positiveInt('model_args.depth', value); break;
      case 'num_heads': numHeads = positiveInt('model_args.num_heads', value); break;
      case 'num_classes': classCounts.push(['model_args.num_classes', positiveInt('model_args.num_classes', value, true)]); break;
      case 'mlp_ratio':
        if (typeof value !== 'number' || !(value > 0)) fail(`model_args.mlp_ratio must be a positive number but got ${JSON.stringify(value)}`);
        mlpRatio = value;
        break;
      case 'qkv_bias':
        if (typeof value !== 'boolean') fail(`model_args.qkv_bias must be a boolean but got ${JSON.stringify(value)}`);
        qkvBias = value;
        break;
      default:
        if (IGNORED_ARGS.has(key)) break;
        if (key in FIXED_ARGS) {
          if (value !== FIXED_ARGS[key]) {
            fail(`model_args.${key} = ${JSON.stringify(value)} is not supported (only ${JSON.stringify(FIXED_ARGS[key])})`);
          }
          break;
        }
        fail(`model_args.${key} is not supported (supported: img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, num_classes, qkv_bias, ${Object.keys(FIXED_ARGS).join(', ')})`);
    }
  }
  if (json['num_classes'] !== undefined) classCounts.push(['num_classes', positiveInt('num_classes', json['num_classes'], true)]);

  const pre = json['pretrained_cfg'] ?? {};
  if (!isRecord(pre)) fail(`pretrained_cfg must be an object but got ${JSON.stringify(pre)}`);
  if (pre['num_classes'] !== undefined) {
    classCounts.push(['pretrained_cfg.num_classes', positiveInt('pretrained_cfg.num_classes', pre['num_classes'], true)]);
  }
  const numClasses = classCounts.length > 0 ? classCounts[0][1] : 1000;
  for (const [where, n] of classCounts) {
    if (n !== numClasses) fail(`${where} = ${n} contradicts ${classCounts[0][0]} = ${numClasses}`);
  }

  if (embedDim % numHeads !== 0) fail(`embed_dim (${embedDim}) must divide evenly by num_heads (${numHeads})`);
  if (imgSize[0] % patchSize !== 0 || imgSize[1] % patchSize !== 0) {
    fail(`img_size (${imgSize.join('x')}) must divide evenly by patch_size (${patchSize})`);
  }
  const mlpHidden = Math.trunc(embedDim * mlpRatio);
  if (mlpHidden < 1) fail(`embed_dim · mlp_ratio must be at least 1 but got ${embedDim * mlpRatio}`);
  if (json['num_features'] !== undefined && json['num_features'] !== embedDim) {
    fail(`num_features = ${JSON.stringify(json['num_features'])} contradicts embed_dim = ${embedDim}`);
  }

  const inputSize: [number, number, number] =
    pre['input_size'] === undefined ? [3, imgSize[0], imgSize[1]] : triple('pretrained_cfg.input_size', pre['input_size']);
  if (inputSize[0] !== 3) fail(`pretrained_cfg.input_size must have 3 channels but got ${JSON.stringify(inputSize)}`);
  if (inputSize[1] !== imgSize[0] || inputSize[2] !== imgSize[1]) {
    fail(`pretrained_cfg.input_size ${JSON.stringify(inputSize)} contradicts img_size ${imgSize.join('x')}`);
  }
  const mean = pre['mean'] === undefined ? DEFAULT_MEAN : triple('pretrained_cfg.mean', pre['mean']);
  const std = pre['std'] === undefined ? DEFAULT_STD : triple('pretrained_cfg.std', pre['std']);
  if (!std.every((s) => s > 0)) fail(`pretrained_cfg.std must be positive but got ${JSON.stringify(std)}`);

  const config: VitConfig = {
    architecture: base.architecture,
    imgSize,
    patchSize,
    embedDim,
    depth,
    numHeads,
    mlpRatio,
    mlpHidden,
    numClasses,
    qkvBias,
    numPatches: (imgSize[0] / patchSize) * (imgSize[1] / patchSize),
    numTokens: (imgSize[0] / patchSize) * (imgSize[1] / patchSize) + 1,
    inputSize,
    mean: [...mean],
    std: [...std],
  };
  if (base.tag !== undefined) config.tag = base.tag;
  if (pre['crop_pct'] !== undefined) {
    const c = pre['crop_pct'];
    if (typeof c !== 'number' || !(c > 0 && c <= 1)) fail(`pretrained_cfg.crop_pct must be in (0, 1] but got ${JSON.stringify(c)}`);
    config.cropPct = c;
  }
  if (pre['interpolation'] !== undefined) {
    if (typeof pre['interpolation'] !== 'string') {
      fail(`pretrained_cfg.interpolation must be a string but got ${JSON.stringify(pre['interpolation'])}`);
    }
    config.interpolation = pre['interpolation'];
  }
  return config;
}
