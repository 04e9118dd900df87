import type { SnellConfig } from '@fedsnell/snell';
import type { TrainerConfig } from '@fedsnell/train';

/** What one centralized row trains: which tensors, the adapter, and any candidate option. */
export interface MethodSpec {
  id: string;
  label: string;
  trainables: 'head' | 'adapter' | 'full';
  snell?: Partial<SnellConfig>;
  /** candidate trainer options (factorLrScale, denseWarmupEpochs, sparsityRampEpochs) */
  trainer?: Partial<TrainerConfig>;
  /** factor initialisation scale (createTrainables' factorInitScale) */
  initScale?: number;
  /** learning rates of the sweep */
  lrs: number[];
  /** a candidate option on top of SNELL s = 0.9 (compared with the plain SNELL s = 0.9 row) */
  candidate?: boolean;
}

export type Partition = 'iid' | 'dirichlet';
export type FedStrategy = 'fedavg' | 'fedprox' | 'snell-exact';

/** A federated row: a centralized method's adapter trained by K clients under one strategy. */
export interface FederatedSpec {
  id: string;
  label: string;
  /** the centralized row whose adapter, options and best lr the clients start from (its reference) */
  method: string;
  strategy: FedStrategy;
  partition: Partition;
  /** client trainer options on top of the method's (logitAdjustment for label-skewed clients) */
  trainer?: Partial<TrainerConfig>;
  /** rows of one group share partition and client options: FedAvg and SNELL-exact of a group are compared */
  group: string;
}

const SNELL_LRS = [5e-3, 2e-2, 5e-2, 1e-1];

/** The centralized rows: baselines, SNELL at two sparsities, and each candidate option on SNELL s = 0.9. */
export const CENTRAL_METHODS: readonly MethodSpec[] = [
  { id: 'head', label: 'head only', trainables: 'head', lrs: [3e-3, 1e-2, 3e-2] },
  { id: 'lora', label: 'LoRA-r', trainables: 'adapter', snell: { kernel: 'linear' }, lrs: [2e-3, 5e-3, 1e-2, 2e-2] },
  { id: 'klora', label: 'dense KLoRA (SNELL s=0)', trainables: 'adapter', snell: { sparsity: 0 }, lrs: [5e-3, 1e-2, 2e-2, 5e-2] },
  { id: 'snell-0.5', label: 'SNELL-r s=0.5', trainables: 'adapter', snell: { sparsity: 0.5 }, lrs: SNELL_LRS },
  { id: 'snell-0.9', label: 'SNELL-r s=0.9', trainables: 'adapter', snell: { sparsity: 0.9 }, lrs: SNELL_LRS },
  { id: 'full', label: 'full fine-tuning', trainables: 'full', lrs: [1e-4, 3e-4, 1e-3] },
  {
    id: 'snell-0.9-soft',
    label: 'SNELL s=0.9 + soft threshold',
    trainables: 'adapter',
    snell: { sparsity: 0.9, threshold: 'soft' },
    lrs: SNELL_LRS,
    candidate: true,
  },
  {
    id: 'snell-0.9-factor-lr',
    label: 'SNELL s=0.9 + factor lr ×10',
    trainables: 'adapter',
    snell: { sparsity: 0.9 },
    trainer: { factorLrScale: 10 },
    lrs: [5e-3, 1e-2, 2e-2],
    candidate: true,
  },
  {
    id: 'snell-0.9-init',
    label: 'SNELL s=0.9 + factor init ×10',
    trainables: 'adapter',
    snell: { sparsity: 0.9 },
    initScale: 10,
    lrs: SNELL_LRS,
    candidate: true,
  },
  {
    id: 'snell-0.9-warmup',
    label: 'SNELL s=0.9 + dense warm-up (1 epoch)',
    trainables: 'adapter',
    snell: { sparsity: 0.9 },
    trainer: { denseWarmupEpochs: 1 },
    lrs: SNELL_LRS,
    candidate: true,
  },
  {
    id: 'snell-0.9-ramp',
    label: 'SNELL s=0.9 + sparsity ramp (2 epochs)',
    trainables: 'adapter',
    snell: { sparsity: 0.9 },
    trainer: { sparsityRampEpochs: 2 },
    lrs: SNELL_LRS,
    candidate: true,
  },
  {
    id: 'snell-0.9-scale1',
    label: 'SNELL s=0.9 + coefficient scale 1',
    trainables: 'adapter',
    snell: { sparsity: 0.9, scale: 1 },
    // scale 1 multiplies ΔW by 10 at the same factors: smaller rates (5e-2 diverged in a trial)
    lrs: [5e-3, 1e-2, 2e-2, 5e-2],
    candidate: true,
  },
];

const STRATEGY_NAMES: Record<FedStrategy, string> = { fedavg: 'FedAvg-SNELL', 'snell-exact': 'SNELL-exact', fedprox: 'FedProx-SNELL' };
const STRATEGY_IDS: Record<FedStrategy, string> = { fedavg: 'fedavg-snell', 'snell-exact': 'snell-exact', fedprox: 'fedprox-snell' };
const PARTITION_TAGS: Record<Partition, string> = { iid: 'IID', dirichlet: 'Dir(0.5)' };

/** A SNELL federated row; `variant` (id infix and label suffix) names client options beyond the method's. */
function snellRow(strategy: FedStrategy, partition: Partition, method: string, variant?: { id: string; label: string; trainer: Partial<TrainerConfig> }): FederatedSpec {
  const group = variant ? `${variant.id}-${partition}` : partition;
  const label = `${STRATEGY_NAMES[strategy]}${variant ? ` ${variant.label}` : ''}, ${PARTITION_TAGS[partition]}`;
  return { id: `${STRATEGY_IDS[strategy]}-${group}`, label, method, strategy, partition, group, ...(variant ? { trainer: variant.trainer } : {}) };
}

/** The setting recommended for label-skewed clients: factor lr ×10 (its centralized row) plus logit adjustment τ = 1. */
const LOGIT_ADJUSTED = { id: 'la', label: '+ factor lr ×10 + logit adj. 1', trainer: { logitAdjustment: 1 } };

export const FEDERATED_ROWS: readonly FederatedSpec[] = [
  ...(['iid', 'dirichlet'] as const).flatMap((partition) => [
    { id: `fedavg-lora-${partition}`, label: `FedAvg-LoRA, ${PARTITION_TAGS[partition]}`, method: 'lora', strategy: 'fedavg' as const, partition, group: partition },
    ...(['fedavg', 'snell-exact', 'fedprox'] as const).map((strategy) => snellRow(strategy, partition, 'snell-0.9')),
  ]),
  ...(['fedavg', 'snell-exact'] as const).map((strategy) => snellRow(strategy, 'dirichlet', 'snell-0.9-factor-lr', LOGIT_ADJUSTED)),
];
