// What the page and the training worker say to each other (structured clone; Files cross as Files).
import type { ClientEvent } from '@fedsnell/client';
import type { PreprocessConfig } from '@fedsnell/data';

/** One picked image: the File and its path below the picked folder ("class/…/name.png"). */
export interface PickedFile {
  path: string;
  file: File;
}

export type BackendPreference = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export interface StartMessage {
  type: 'start';
  server: string;
  token: string;
  clientId?: string;
  /** name of the picked folder, for messages */
  folder: string;
  files: PickedFile[];
  backend: BackendPreference;
  /** false: wasm without threads even where the page is cross-origin isolated */
  wasmThreads: boolean;
}

/** Preprocesses the picked images with `preprocess` and returns them (diagnostics; tests compare with Node). */
export interface InspectMessage {
  type: 'inspect';
  folder: string;
  files: PickedFile[];
  preprocess: PreprocessConfig;
}

export type ToWorker = StartMessage | InspectMessage | { type: 'stop' };

export interface BackendInfo {
  name: string;
  /** what navigator.gpu.requestAdapter() reported, when WebGPU was tried */
  adapter: { vendor: string; architecture: string; device: string; description: string; fallback: boolean } | null;
  crossOriginIsolated: boolean;
  /** wasm only: whether the threaded build could run */
  wasmThreads: boolean | null;
  /** the backends tried before this one, with why they failed */
  tried: Array<{ name: string; reason: string }>;
}

export type FromWorker =
  | { type: 'event'; event: ClientEvent }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'skipped'; files: Array<{ name: string; reason: string }> }
  /** how a round's steps split into local epochs */
  | { type: 'plan'; epochs: number; stepsPerEpoch: number }
  /** bytes of round states received (the backbone is reported by its own events) */
  | { type: 'round-bytes'; round: number; bytes: number }
  /** tfjs memory after a round's training, with its tensors released */
  | { type: 'memory'; round: number; numTensors: number; numBytes: number }
  | { type: 'inspected'; classes: string[]; labels: number[]; x: Float32Array; skipped: Array<{ name: string; reason: string }> }
  | { type: 'stopped'; reason: string; fatal: boolean; code?: string };
