import type { SnellConfig } from '@fedsnell/snell';

/** Backbone tensors packed into one SharedArrayBuffer: every worker reads it without a copy. */
export interface PackedBackbone {
  configJson: Record<string, unknown>;
  buffer: SharedArrayBuffer;
  entries: { name: string; shape: number[]; offset: number; length: number }[];
}

export interface TrainableSpec {
  name: string;
  shape: number[];
}

export interface InitMessage {
  type: 'init';
  backend: 'wasm' | 'cpu';
  backbone: PackedBackbone;
  trainables: TrainableSpec[];
  snell?: SnellConfig;
  numClasses: number;
  /** logit adjustment offsets added inside the loss (see logitOffsets) */
  logitOffsets?: Float32Array;
  adapterDropout: number;
  dropPath: number;
  /** per-block gradient checkpointing in the forward pass (bounds activation memory) */
  checkpoint: boolean;
}

/** One worker's share of a step: current trainables (in spec order) and its slice of the batch. */
export interface StepMessage {
  type: 'step';
  id: number;
  /** seeds this step's dropout / drop-path draws in the worker */
  seed: number;
  /** this step's sparsity when a schedule moves it away from init's adapter configuration */
  sparsity?: number;
  trainables: Float32Array[];
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export type ToWorker = InitMessage | StepMessage | { type: 'close' };

export interface ResultMessage {
  type: 'result';
  id: number;
  /** gradients of the mean loss over this worker's slice, in spec order */
  grads: Float32Array[];
  loss: number;
  hits: number;
  n: number;
}

export type FromWorker = { type: 'ready'; backend: string } | ResultMessage | { type: 'error'; id?: number; message: string };
