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
  method: string;
  strategy: FedStrategy;
  partition: Partition;
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

export const FEDERATED_ROWS: readonly FederatedSpec[] = (['iid', 'dirichlet'] as const).flatMap((partition) => {
  const tag = partition === 'iid' ? 'IID' : 'Dir(0.5)';
  return [
    { id: `fedavg-lora-${partition}`, label: `FedAvg-LoRA, ${tag}`, method: 'lora', strategy: 'fedavg' as const, partition },
    { id: `fedavg-snell-${partition}`, label: `FedAvg-SNELL, ${tag}`, method: 'snell-0.9', strategy: 'fedavg' as const, partition },
    { id: `snell-exact-${partition}`, label: `SNELL-exact, ${tag}`, method: 'snell-0.9', strategy: 'snell-exact' as const, partition },
    { id: `fedprox-snell-${partition}`, label: `FedProx-SNELL, ${tag}`, method: 'snell-0.9', strategy: 'fedprox' as const, partition },
  ];
});
