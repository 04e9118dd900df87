import type { SnellConfig } from '@fedsnell/snell';

export interface WireFactors {
  module: string;
  A: { shape: number[]; data: Float32Array };
  B: { shape: number[]; data: Float32Array };
}

export interface WireDelta {
  module: string;
  shape: [number, number];
  data: Float32Array;
}

/** Main thread → sparse-delta worker; each carries an id its reply repeats. */
export type ToSparseWorker =
  | { type: 'init'; id: number; snell: SnellConfig }
  | { type: 'accumulate'; id: number; weight: number; modules: WireFactors[] }
  | { type: 'gaps'; id: number; total: number; modules: WireFactors[] }
  | { type: 'take'; id: number; total: number }
  | { type: 'clear'; id: number }
  | { type: 'close'; id: number };

export type FromSparseWorker =
  | { type: 'done'; id: number; deltas?: WireDelta[]; gaps?: Record<string, number> }
  | { type: 'error'; id: number; message: string };
