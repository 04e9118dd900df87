import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '@fedsnell/tensor-io';
import { factorNames, type CompetitionThreshold, type SnellConfig } from '@fedsnell/snell';
import type { VitConfig } from './config';
import { gelu } from './gelu';
import { layerNorm } from './layer-norm';
import { frozenLinear, maskGradient, trainableLinear } from './linear';
import { adapterBranch, adapterInput, AdapterRegularisation } from './adapter-branch';
import { checkVitTensors, vitTensorShapes } from './weights';
import { checkTrainables } from './trainable-names';
import { checkpoint } from './checkpoint';
import { attention } from './attention';

export interface ForwardOptions {
  /**
   * Tensors that replace or extend the frozen backbone, by name: `<module>.snell_A` / `.snell_B` add a
   * parallel adapter branch to that module (needs `snell`); any backbone name (`head.weight`,
   * `cls_token`, `blocks.0.attn.qkv.weight`, ...) replaces that tensor, and gradients flow to it.
   */
  trainables?: ReadonlyMap<string, tf.Tensor>;
  /** Configuration of the adapter branches (kernel 'linear' gives the LoRA baseline). */
  snell?: SnellConfig;
  /** Fixed 0/1 masks by backbone weight name: that trainable's gradient is multiplied by its mask. */
  gradientMasks?: ReadonlyMap<string, tf.Tensor>;
  /**
   * Competition thresholds by module name, read asynchronously beforehand (snellThreshold). Without
   * them each adapter reads ΔW synchronously, which WebGPU in Node cannot do and browsers stall on.
   */
  thresholds?: ReadonlyMap<string, CompetitionThreshold>;
  /** Enables adapter dropout / drop-path. */
  training?: boolean;
  /**
   * Dropout on adapter inputs while training (reference 0.1), placed as the reference does: one mask
   * shared by the q/k/v adapters, one each for fc1 and fc2, none for proj. Default 0.
   */
  adapterDropout?: number;
  /** Per-sample drop-path on each adapter's output, drawn per adapter, while training (reference 0.1). Default 0. */
  dropPath?: number;
  /** Uniform [0, 1) source for dropout masks; required when training with a non-zero rate. */
  rng?: () => number;
  /**
   * Gradient checkpointing per block: keep only each block's input between forward and backward and
   * recompute the block in the backward pass (about one extra forward). tfjs keeps every intermediate
   * and every intermediate gradient of a step otherwise, so this bounds training memory by one block.
   */
  checkpoint?: boolean;
}

const LINEARS = (config: VitConfig): string[] => {
  const names = ['patch_embed.proj'];
  for (let i = 0; i < config.depth; i++) {
    names.push(`blocks.${i}.attn.qkv`, `blocks.${i}.attn.proj`, `blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc2`);
  }
  if (config.numClasses > 0) names.push('head');
  return names;
};

interface Pass {
  trainables: ReadonlyMap<string, tf.Tensor>;
  masks: ReadonlyMap<string, tf.Tensor>;
  snell?: SnellConfig;
  reg?: AdapterRegularisation;
  thresholds?: ReadonlyMap<string, CompetitionThreshold>;
  /** receives each threshold an adapter reads itself (a checkpointed block's first run) */
  readThresholds?: Map<string, CompetitionThreshold>;
  /** adapters keep their distances for their backward (a checkpointed block's recomputation, whose backward follows at once) */
  keepDistances?: boolean;
  checkpoint: boolean;
}

/**
 * timm's VisionTransformer (class token, learned position embedding, pre-norm blocks, LayerNorm eps
 * 1e-6, exact GELU, head on the class token), frozen, with optional trainable replacements and
 * SNELL/LoRA branches supplied per call. Input: NCHW float32 [n, 3, H, W], already normalised.
 */
export class VisionTransformer {
  /** Tensors in the input map that the model does not use (reported, not an error). */
  readonly unusedTensors: readonly string[];
  private readonly params = new Map<string, tf.Tensor>();
  /** Linear weights stored transposed once, [in, out], keyed by module name. */
  private readonly weightsT = new Map<string, tf.Tensor2D>();
  private disposed = false;

  private constructor(
    readonly config: VitConfig,
    tensors: TensorMap,
    unused: string[],
  ) {
    this.unusedTensors = unused;
    const linears = new Set(LINEARS(config).map((m) => `${m}.weight`));
    for (const [name, shape] of vitTensorShapes(config)) {
      const t = tensors.get(name);
      if (!t) continue;
      if (linears.has(name)) {
        const out = shape[0];
        const w = tf.tensor2d(t.data, [out, t.data.length / out]);
        this.weightsT.set(name.slice(0, -'.weight'.length), tf.keep(tf.transpose(w)));
        w.dispose();
      } else {
        this.params.set(name, tf.keep(tf.tensor(t.data, shape)));
      }
    }
  }

  /** Builds the model from timm-named tensors, checking every expected name and shape first. */
  static fromTensors(config: VitConfig, tensors: TensorMap): VisionTransformer {
    const unused = checkVitTensors(config, tensors);
    return new VisionTransformer(config, tensors, unused);
  }

  /**
   * A frozen backbone tensor by timm name, in timm's layout ([out, in] for linear weights); a new
   * tensor the caller disposes.
   */
  backboneTensor(name: string): tf.Tensor {
    this.assertAlive('backboneTensor');
    const p = this.params.get(name);
    if (p) return tf.clone(p);
    if (name.endsWith('.weight')) {
      const wt = this.weightsT.get(name.slice(0, -'.weight'.length));
      if (wt) {
        const shape = vitTensorShapes(this.config).get(name) as number[];
        return tf.tidy(() => tf.reshape(tf.transpose(wt), shape));
      }
    }
    throw new Error(`VisionTransformer.backboneTensor(): no tensor '${name}' in ${this.config.architecture}`);
  }

  /** Logits [n, classes] (or the normalised class token [n, D] when there is no head). */
  forward(x: tf.Tensor4D, options: ForwardOptions = {}): tf.Tensor2D {
    this.assertAlive('forward');
    const { config } = this;
    const [, c, h, w] = x.shape;
    if (x.rank !== 4 || c !== 3 || h !== config.imgSize[0] || w !== config.imgSize[1]) {
      throw new Error(
        `input passed to VisionTransformer.forward() must have shape [n, 3, ${config.imgSize[0]}, ${config.imgSize[1]}] but got [${x.shape}]`,
      );
    }
    const trainables = options.trainables ?? new Map<string, tf.Tensor>();
    checkTrainables(config, trainables, options.snell, options.gradientMasks);
    const pass: Pass = { trainables, masks: options.gradientMasks ?? new Map(), snell: options.snell, checkpoint: options.checkpoint ?? false, thresholds: options.thresholds };
    const dropout = options.training ? (options.adapterDropout ?? 0) : 0;
    const dropPath = options.training ? (options.dropPath ?? 0) : 0;
    for (const [arg, rate] of [['adapterDropout', dropout], ['dropPath', dropPath]] as const) {
      if (!(rate >= 0 && rate < 1)) throw new Error(`${arg} passed to VisionTransformer.forward() must be in [0, 1) but got ${rate}`);
    }
    if (dropout > 0 || dropPath > 0) {
      if (!options.rng) throw new Error('rng passed to VisionTransformer.forward() is required when training with adapterDropout or dropPath > 0');
      pass.reg = { dropout, dropPath, tokens: config.numTokens, rng: options.rng };
    }
    return tf.tidy(() => this.run(x, pass));
  }

  private run(x: tf.Tensor4D, pass: Pass): tf.Tensor2D {
    const { config } = this;
    const n = x.shape[0];
    const d = config.embedDim;
    const tokens = config.numTokens;
    let hidden = tf.concat([tf.tile(this.param('cls_token', pass), [n, 1, 1]), this.patchEmbed(x, pass)], 1);
    hidden = tf.add(hidden, this.param('pos_embed', pass));
    let flat = tf.reshape(hidden, [n * tokens, d]) as tf.Tensor2D;
    // One tidy per block: intermediates the backward does not need are freed block by block (what it
    // needs, the engine keeps), instead of living until the whole forward returns.
    for (let i = 0; i < config.depth; i++) {
      const input = flat;
      flat = pass.checkpoint ? this.checkpointedBlock(i, input, n, pass) : tf.tidy(() => this.block(i, input, n, pass));
    }
    const cls = tf.reshape(tf.slice(tf.reshape(flat, [n, tokens, d]), [0, 0, 0], [n, 1, d]), [n, d]) as tf.Tensor2D;
    const normed = layerNorm(cls, this.param('norm.weight', pass) as tf.Tensor1D, this.param('norm.bias', pass) as tf.Tensor1D);
    if (config.numClasses === 0 && !pass.trainables.has('head.weight')) return normed;
    return this.linear('head', normed, pass);
  }

  private patchEmbed(x: tf.Tensor4D, pass: Pass): tf.Tensor3D {
    const { patchSize: p, imgSize, embedDim } = this.config;
    const n = x.shape[0];
    const gh = imgSize[0] / p;
    const gw = imgSize[1] / p;
    // Conv with stride = kernel = p is a matMul over non-overlapping patches flattened as (c, ky, kx).
    const grid = tf.transpose(tf.reshape(x, [n * 3, gh, p, gw, p]), [0, 1, 3, 2, 4]);
    const patches = tf.transpose(tf.reshape(grid, [n, 3, gh * gw, p * p]), [0, 2, 1, 3]);
    const rows = tf.reshape(patches, [n * gh * gw, 3 * p * p]) as tf.Tensor2D;
    return tf.reshape(this.linear('patch_embed.proj', rows, pass), [n, gh * gw, embedDim]);
  }

  private block(i: number, x: tf.Tensor2D, n: number, pass: Pass): tf.Tensor2D {
    const b = `blocks.${i}`;
    const { numHeads: heads } = this.config;
    const h1 = this.norm(`${b}.norm1`, x, pass);
    const qkv = this.linear(`${b}.attn.qkv`, h1, pass);
    // The reference feeds q, k and v adapters one shared dropped-out input, proj's adapter none.
    const qkvIn = this.hasAdapter(pass, `${b}.attn.q`, `${b}.attn.k`, `${b}.attn.v`) ? adapterInput(h1, pass.reg) : h1;
    const [q, k, v] = tf.split(qkv, 3, 1).map((t, j) => this.adapt(`${b}.attn.${'qkv'[j]}`, qkvIn, t as tf.Tensor2D, pass));
    const merged = attention(q, k, v, n, heads);
    const attn = this.adapt(`${b}.attn.proj`, merged, this.linear(`${b}.attn.proj`, merged, pass), pass);
    const x1 = tf.add(x, attn) as tf.Tensor2D;
    const h2 = this.norm(`${b}.norm2`, x1, pass);
    const fc1In = this.hasAdapter(pass, `${b}.mlp.fc1`) ? adapterInput(h2, pass.reg) : h2;
    const fc1 = this.adapt(`${b}.mlp.fc1`, fc1In, this.linear(`${b}.mlp.fc1`, h2, pass), pass);
    const act = gelu(fc1);
    const fc2In = this.hasAdapter(pass, `${b}.mlp.fc2`) ? adapterInput(act, pass.reg) : act;
    const fc2 = this.adapt(`${b}.mlp.fc2`, fc2In, this.linear(`${b}.mlp.fc2`, act, pass), pass);
    return tf.add(x1, fc2) as tf.Tensor2D;
  }

  /**
   * A block as one checkpointed op: its inputs are the block input and the block's trainables; the
   * backward recomputes it, replaying the random draws of the forward so dropout masks match, and
   * the competition thresholds the forward read (the same factors give the same τ), so the
   * recomputation reads no ΔW back and selects no quantile. The recomputation's backward follows at
   * once, so its adapters keep their distances for it (one block's worth of memory) rather than
   * evaluating them again.
   */
  private checkpointedBlock(i: number, x: tf.Tensor2D, n: number, pass: Pass): tf.Tensor2D {
    const prefix = `blocks.${i}.`;
    const names = [...pass.trainables.keys()].filter((name) => name.startsWith(prefix));
    const draws: number[] = [];
    const thresholds = new Map<string, CompetitionThreshold>(pass.thresholds ?? []);
    let recording = true;
    const fn = (inputs: tf.Tensor[]): tf.Tensor => {
      const trainables = new Map(pass.trainables);
      names.forEach((name, j) => trainables.set(name, inputs[j + 1]));
      let reg = pass.reg;
      if (reg) {
        const source = reg.rng;
        let k = 0;
        const record = (): number => {
          const v = source();
          draws.push(v);
          return v;
        };
        reg = { ...reg, rng: recording ? record : () => draws[k++] };
      }
      const run: Pass = recording ? { ...pass, trainables, reg, readThresholds: thresholds } : { ...pass, trainables, reg, thresholds, keepDistances: true };
      const out = this.block(i, inputs[0] as tf.Tensor2D, n, run);
      recording = false;
      return out;
    };
    return checkpoint(fn, [x, ...names.map((name) => pass.trainables.get(name) as tf.Tensor)]) as tf.Tensor2D;
  }

  private norm(name: string, x: tf.Tensor2D, pass: Pass): tf.Tensor2D {
    return layerNorm(x, this.param(`${name}.weight`, pass) as tf.Tensor1D, this.param(`${name}.bias`, pass) as tf.Tensor1D);
  }

  /** y = x·Wᵀ + b: the frozen fast path, or the trainable path when the weight is replaced. */
  private linear(module: string, x: tf.Tensor2D, pass: Pass): tf.Tensor2D {
    const weightName = `${module}.weight`;
    const bias = this.optionalParam(`${module}.bias`, pass) as tf.Tensor1D | undefined;
    const replaced = pass.trainables.get(weightName);
    let y: tf.Tensor2D;
    if (replaced) {
      const masked = this.maybeMask(weightName, replaced, pass);
      const w2 = masked.rank === 2 ? (masked as tf.Tensor2D) : (tf.reshape(masked, [masked.shape[0], -1]) as tf.Tensor2D);
      y = trainableLinear(x, w2, null);
    } else {
      y = frozenLinear(x, this.weightsT.get(module) as tf.Tensor2D, null);
    }
    return bias ? (tf.add(y, bias) as tf.Tensor2D) : y;
  }

  private adapt(module: string, x: tf.Tensor2D, y: tf.Tensor2D, pass: Pass): tf.Tensor2D {
    const [a, b] = factorNames(module).map((name) => pass.trainables.get(name));
    if (!a || !b || !pass.snell) return y;
    const read = pass.readThresholds;
    const onThreshold = read ? (th: CompetitionThreshold) => read.set(module, th) : undefined;
    const branch = adapterBranch(x, a as tf.Tensor3D, b as tf.Tensor3D, pass.snell, pass.reg, pass.thresholds?.get(module), {
      onThreshold,
      keepDistances: pass.keepDistances,
    });
    return tf.add(y, branch) as tf.Tensor2D;
  }

  private hasAdapter(pass: Pass, ...modules: string[]): boolean {
    return pass.snell !== undefined && modules.some((m) => pass.trainables.has(factorNames(m)[0]));
  }

  private maybeMask(name: string, t: tf.Tensor, pass: Pass): tf.Tensor {
    const mask = pass.masks.get(name);
    return mask ? maskGradient(t, mask) : t;
  }

  private optionalParam(name: string, pass: Pass): tf.Tensor | undefined {
    const t = pass.trainables.get(name);
    return t ? this.maybeMask(name, t, pass) : this.params.get(name);
  }

  private param(name: string, pass: Pass): tf.Tensor {
    return this.optionalParam(name, pass) as tf.Tensor;
  }

  private assertAlive(method: string): void {
    if (this.disposed) throw new Error(`VisionTransformer.${method}(): the model was disposed`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.params.values()) t.dispose();
    for (const t of this.weightsT.values()) t.dispose();
    this.params.clear();
    this.weightsT.clear();
  }
}
