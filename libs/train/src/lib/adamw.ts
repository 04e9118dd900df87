import * as tf from '@tensorflow/tfjs';
import { isFactorName } from '@fedsnell/snell';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** which variables get weight decay (reference: the factors and head.weight only) */
  decays: (name: string) => boolean;
  /**
   * per-variable learning-rate multiplier, as a torch parameter group's own lr (the decoupled decay
   * uses the scaled rate too); absent = 1 for every variable
   */
  lrScale?: (name: string) => number;
}

/** A `lrScale` that multiplies the factors' learning rate by `factorLrScale`; undefined for 1 (the reference). */
export function factorLrScaler(factorLrScale: number): ((name: string) => number) | undefined {
  return factorLrScale === 1 ? undefined : (name) => (isFactorName(name) ? factorLrScale : 1);
}

export const DEFAULT_ADAMW: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0.05,
  decays: (name) => isFactorName(name) || name === 'head.weight',
};

/**
 * AdamW with decoupled weight decay, as torch.optim.AdamW computes it:
 * w ← w·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
 * w ← w − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
 * tfjs's optimizers have no decoupled decay, and its Adam folds ε differently.
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(
    private readonly variables: Map<string, tf.Variable>,
    readonly config: AdamWConfig = DEFAULT_ADAMW,
  ) {
    for (const [name, variable] of variables) {
      this.m.set(name, zeroVariable(variable));
      this.v.set(name, zeroVariable(variable));
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /** Applies one update; `grads` must hold a gradient for every variable it should move. */
  step(grads: tf.NamedTensorMap, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay, decays, lrScale } = this.config;
    this.t += 1;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, w] of this.variables) {
        const g = grads[name];
        if (!g) continue;
        const rate = lrScale ? lr * lrScale(name) : lr;
        const m = this.m.get(name) as tf.Variable;
        const v = this.v.get(name) as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const decayed = decays(name) && weightDecay > 0 ? tf.mul(w, 1 - rate * weightDecay) : w;
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
        w.assign(tf.sub(decayed, tf.mul(update, rate)));
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}
