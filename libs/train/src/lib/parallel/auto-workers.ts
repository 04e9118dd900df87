import type { VitConfig } from '@fedsnell/vit';
import { defaultWorkerCount } from './parallel-engine';

/**
 * Below this many forward GFLOP per image, worker threads cost more than they save: each round
 * starts them (a backbone copy each) and every step crosses threads twice. ViT-Ti at 224 is 2.5
 * GFLOP (1.5x with 2 workers on 2 cores, test/bench); the 28x28 demo backbone is about 0.005.
 */
export const AUTO_WORKERS_MIN_GFLOP = 0.1;

/** The shape of a ViT that sets its per-image cost. */
export type VitCost = Pick<VitConfig, 'embedDim' | 'depth' | 'mlpHidden' | 'numTokens' | 'numPatches' | 'patchSize'>;

/** Forward GFLOP of one image: patch embedding, the four linears and attention of every block. */
export function forwardGflopPerImage(config: VitCost): number {
  const { embedDim: d, depth, mlpHidden, numTokens: t, numPatches, patchSize: p } = config;
  const linearMacs = t * (4 * d * d + 2 * d * mlpHidden);
  const attentionMacs = 2 * t * t * d;
  const macs = numPatches * 3 * p * p * d + depth * (linearMacs + attentionMacs);
  return (2 * macs) / 1e9;
}

/**
 * The worker count `workers: 'auto'` of the Node trainer picks: one per core (at most 4) when the
 * gradients run on wasm or cpu, the backbone costs at least AUTO_WORKERS_MIN_GFLOP per image and the
 * batch gives every worker an image; otherwise 1 (this thread). WebGPU and other backends train on
 * this thread: their kernels do not run in worker threads.
 */
export function autoWorkerCount(config: VitCost, batchSize: number, backend: string, cores = defaultWorkerCount()): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  if (forwardGflopPerImage(config) < AUTO_WORKERS_MIN_GFLOP) return 1;
  return Math.max(1, Math.min(cores, batchSize));
}
