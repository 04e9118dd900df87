/** Local training hyperparameters. Defaults follow the SNELL reference recipe where it applies. */
export interface TrainerConfig {
  epochs: number;
  /** stop after this many optimizer steps (0 = no limit) */
  maxSteps: number;
  batchSize: number;
  /** peak learning rate (reference 1e-3) */
  lr: number;
  /** linear warm-up length in epochs (fractional allowed); 0 disables warm-up */
  warmupEpochs: number;
  warmupLr: number;
  minLr: number;
  /** decoupled weight decay on the factors and head.weight */
  weightDecay: number;
  seed: number;
  /** dropout on the adapter input while training (reference 0.1) */
  adapterDropout: number;
  /** drop-path on the adapter output while training (reference 0.1) */
  dropPath: number;
  /**
   * recompute each block in the backward pass instead of keeping its activations: much lower peak
   * memory for about one more forward pass of compute
   */
  checkpoint: boolean;
  /** FedProx proximal coefficient μ: adds μ/2·‖w − w_global‖² to the loss; 0 = plain local training */
  proximalMu: number;
  /**
   * learning-rate multiplier for the SNELL/LoRA factors (`*.snell_A`, `*.snell_B`) only; head and
   * cls_token keep `lr`. 1 = one learning rate for everything (the reference). The reference's
   * S = ΔW·|ΔW|·mask is quadratic in ΔW, so the factors want a larger step than the head.
   */
  factorLrScale: number;
  /**
   * dense warm-up: the first `denseWarmupEpochs` epochs (fractional allowed) train with sparsity 0
   * (dense KLoRA, S = ΔW), then the adapter's sparsity switches on. 0 = sparse from the first step.
   */
  denseWarmupEpochs: number;
  /**
   * after the dense warm-up, sparsity ramps linearly from 0 to the adapter's target over this many
   * epochs (fractional allowed). 0 = the target at once.
   */
  sparsityRampEpochs: number;
  /**
   * logit adjustment τ for label-skewed (non-IID) clients: the training loss sees
   * `logits + τ·log(local class share)`, and classes absent from the local data leave the softmax.
   * 0 = plain cross-entropy (the reference); 1 = balanced softmax. Evaluation is unchanged.
   */
  logitAdjustment: number;
}

export const DEFAULT_TRAINER_CONFIG: TrainerConfig = {
  epochs: 1,
  maxSteps: 0,
  batchSize: 32,
  lr: 1e-3,
  warmupEpochs: 0,
  warmupLr: 1e-6,
  minLr: 1e-5,
  weightDecay: 1e-4,
  seed: 0,
  adapterDropout: 0.1,
  dropPath: 0.1,
  checkpoint: true,
  proximalMu: 0,
  factorLrScale: 1,
  denseWarmupEpochs: 0,
  sparsityRampEpochs: 0,
  logitAdjustment: 0,
};

/** Fills defaults and rejects values a trainer cannot run with, naming the field and value. */
export function resolveTrainerConfig(partial: Partial<TrainerConfig> = {}): TrainerConfig {
  const cfg: TrainerConfig = { ...DEFAULT_TRAINER_CONFIG, ...stripUndefined(partial) };
  const check = (ok: boolean, field: keyof TrainerConfig, rule: string) => {
    if (!ok) throw new Error(`trainer ${field} must be ${rule} but got ${String(cfg[field])}`);
  };
  check(Number.isInteger(cfg.epochs) && cfg.epochs >= 1, 'epochs', 'a positive integer');
  check(Number.isInteger(cfg.maxSteps) && cfg.maxSteps >= 0, 'maxSteps', 'a non-negative integer');
  check(Number.isInteger(cfg.batchSize) && cfg.batchSize >= 1, 'batchSize', 'a positive integer');
  check(Number.isFinite(cfg.lr) && cfg.lr > 0, 'lr', 'a positive number');
  check(Number.isFinite(cfg.warmupEpochs) && cfg.warmupEpochs >= 0, 'warmupEpochs', 'a non-negative number');
  check(Number.isFinite(cfg.warmupLr) && cfg.warmupLr >= 0, 'warmupLr', 'a non-negative number');
  check(Number.isFinite(cfg.minLr) && cfg.minLr >= 0, 'minLr', 'a non-negative number');
  check(Number.isFinite(cfg.weightDecay) && cfg.weightDecay >= 0, 'weightDecay', 'a non-negative number');
  check(Number.isInteger(cfg.seed), 'seed', 'an integer');
  check(cfg.adapterDropout >= 0 && cfg.adapterDropout < 1, 'adapterDropout', 'in [0, 1)');
  check(cfg.dropPath >= 0 && cfg.dropPath < 1, 'dropPath', 'in [0, 1)');
  check(Number.isFinite(cfg.proximalMu) && cfg.proximalMu >= 0, 'proximalMu', 'a non-negative number');
  check(Number.isFinite(cfg.factorLrScale) && cfg.factorLrScale > 0, 'factorLrScale', 'a positive number');
  check(Number.isFinite(cfg.denseWarmupEpochs) && cfg.denseWarmupEpochs >= 0, 'denseWarmupEpochs', 'a non-negative number');
  check(Number.isFinite(cfg.sparsityRampEpochs) && cfg.sparsityRampEpochs >= 0, 'sparsityRampEpochs', 'a non-negative number');
  check(Number.isFinite(cfg.logitAdjustment) && cfg.logitAdjustment >= 0, 'logitAdjustment', 'a non-negative number');
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
