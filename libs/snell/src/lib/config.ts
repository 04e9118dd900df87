/** SNELL hyperparameters of one adapted layer (all layers of an adapter share them). */
export interface SnellConfig {
  /** 'distance' = SNELL's kernelized LoRA; 'linear' = plain LoRA (ΔW = A₀·B₀ᵀ), the baseline. */
  kernel: 'distance' | 'linear';
  /** Norm of the distance kernel. */
  p: 1 | 2;
  /** |c_h|; head h has coefficient scale·(−1)^h. The linear kernel has no coefficient (scale 1). */
  scale: number;
  heads: number;
  rank: number;
  /**
   * s ∈ [0, 1): the quantile of |ΔW| below which entries are dropped; 0 switches to dense (KLoRA).
   * Defaults to 0.9 for the distance kernel and 0 (plain dense LoRA) for the linear kernel (snellDefaultsFor).
   */
  sparsity: number;
  /** 'reference' = S = ΔW·|ΔW|·[|ΔW| > τ] (the code); 'soft' = ΔW·max(|ΔW| − τ, 0) (the paper's text). */
  threshold: 'reference' | 'soft';
}

export type SnellMode = 'klora-dense' | 'lora-dense' | 'sparse';

export interface SnellConfigSummary {
  /** s = 0 is a discontinuity in the reference: no squaring, no mask (dense kernelized LoRA). */
  mode: SnellMode;
  headDim: number;
  coefficients: number[];
  text: string;
}

/**
 * The defaults of the distance kernel (SNELL): 0.9 is the reference's most common sparsity ratio.
 * Task files and CLI flags take their defaults from here (and from snellDefaultsFor).
 */
export const DEFAULT_SNELL_CONFIG: Readonly<SnellConfig> = Object.freeze({
  kernel: 'distance',
  p: 2,
  scale: 0.1,
  heads: 2,
  rank: 8,
  sparsity: 0.9,
  threshold: 'reference',
});

/** What `kernel: 'linear'` alone means: plain dense LoRA (one head, no coefficient, no sparsification). */
const LINEAR_DEFAULTS = { heads: 1, scale: 1, sparsity: 0 } as const;

/** The defaults a kernel fills unset fields with: the linear kernel alone is plain dense LoRA. */
export function snellDefaultsFor(kernel: SnellConfig['kernel']): Readonly<SnellConfig> {
  return kernel === 'linear' ? { ...DEFAULT_SNELL_CONFIG, kernel, ...LINEAR_DEFAULTS } : DEFAULT_SNELL_CONFIG;
}

const FN = 'resolveSnellConfig()';

function fail(arg: string, constraint: string, value: unknown): never {
  throw new RangeError(`${arg} passed to ${FN} ${constraint} but got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

function positiveInteger(arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(arg, 'must be a positive integer', value);
  return value;
}

/**
 * Fills defaults and validates; the input may come from JSON (adapter files, task files), so every
 * field is checked at run time. Throws a one-line RangeError naming the field.
 */
export function resolveSnellConfig(partial: Partial<SnellConfig> = {}): SnellConfig {
  const kernel = partial.kernel ?? DEFAULT_SNELL_CONFIG.kernel;
  if (kernel !== 'distance' && kernel !== 'linear') fail('kernel', "must be 'distance' or 'linear'", kernel);
  const linear = kernel === 'linear';
  const defaults = snellDefaultsFor(kernel);
  const p = partial.p ?? defaults.p;
  if (p !== 1 && p !== 2) fail('p', 'must be 1 or 2', p);
  const heads = positiveInteger('heads', partial.heads ?? defaults.heads);
  if (linear && heads !== 1) fail('heads', "must be 1 for the 'linear' kernel", heads);
  const scale = partial.scale ?? defaults.scale;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) fail('scale', 'must be a finite number > 0', scale);
  if (linear && scale !== 1) fail('scale', "must be 1 for the 'linear' kernel (it has no coefficient)", scale);
  const rank = positiveInteger('rank', partial.rank ?? defaults.rank);
  if (rank % heads !== 0) fail('rank', `must divide evenly by heads (${heads})`, rank);
  const sparsity = partial.sparsity ?? defaults.sparsity;
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity < 1)) fail('sparsity', 'must be in [0, 1)', sparsity);
  const threshold = partial.threshold ?? defaults.threshold;
  if (threshold !== 'reference' && threshold !== 'soft') fail('threshold', "must be 'reference' or 'soft'", threshold);
  return { kernel, p, scale, heads, rank, sparsity, threshold };
}

/** What a configuration actually computes, for logs and `summary()` output. */
export function describeSnellConfig(cfg: SnellConfig): SnellConfigSummary {
  const headDim = cfg.rank / cfg.heads;
  const coefficients =
    cfg.kernel === 'linear' ? [1] : Array.from({ length: cfg.heads }, (_, h) => (h % 2 === 0 ? cfg.scale : -cfg.scale));
  const dense = cfg.sparsity === 0;
  const mode: SnellMode = !dense ? 'sparse' : cfg.kernel === 'linear' ? 'lora-dense' : 'klora-dense';
  const kernelText = cfg.kernel === 'linear' ? 'linear (LoRA)' : `distance p=${cfg.p}, c=[${coefficients.join(', ')}]`;
  const sparseText = dense
    ? 'dense: S = ΔW (sparsity 0)'
    : `sparse: keep |ΔW| > quantile ${cfg.sparsity} (${cfg.threshold === 'reference' ? 'S = ΔW·|ΔW|' : 'soft threshold'})`;
  return { mode, headDim, coefficients, text: `${kernelText}, rank ${cfg.rank} in ${cfg.heads} head(s) of ${headDim}, ${sparseText}` };
}
