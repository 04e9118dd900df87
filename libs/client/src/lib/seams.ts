// What a platform gives the client core: where the backbone is kept, where the images come from, and
// what trains. Everything else (connection, join, back-off, rounds, deadlines, delivery, failure
// reports) is the core's and is the same in Node and in a browser.
import type { RoundStart, Task } from '@fedsnell/protocol';
import type { PreprocessConfig } from '@fedsnell/data';
import type { SnellConfig } from '@fedsnell/snell';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { TrainMetrics, TrainProgress } from '@fedsnell/train';
import type { VitConfig } from '@fedsnell/vit';

export interface BackboneProgress {
  /** 'cached': a verified copy was already there; 'download': bytes are arriving; 'verify': hashing */
  phase: 'cached' | 'download' | 'verify';
  receivedBytes: number;
  totalBytes: number;
}

export interface BackboneRequest {
  /** absolute URL of model.safetensors */
  url: string;
  /** 64 lowercase hex characters: the cache key */
  sha256: string;
  /** the size the task declares (never above the client's limit) */
  bytes: number;
  /** sent with the request (the client token, on the coordinator's own origin only) */
  headers: Record<string, string>;
  signal: AbortSignal;
  onProgress: (progress: BackboneProgress) => void;
}

export interface Backbone {
  /** the verified model.safetensors */
  bytes: Uint8Array;
  /** true when no byte was downloaded */
  cached: boolean;
  /** bytes fetched in this call (less than the size when an earlier partial download was resumed) */
  downloadedBytes: number;
  /** where the copy lives, for logs (a path, a cache name) */
  location: string;
}

/**
 * Keeps backbones by sha256. `fetch` returns a verified copy: a cache hit is re-hashed, never trusted,
 * and a corrupt or mismatched entry is dropped and fetched anew. It throws `BackboneDownloadError` for
 * failures worth a retry (each retry may resume) and `BackboneHashError` when the bytes hash wrong.
 */
export interface BackboneCache {
  fetch(request: BackboneRequest): Promise<Backbone>;
  /** Deletes what failed fetches of `sha256` left behind (partial downloads); called once the core gives up. */
  discard(sha256: string): Promise<void>;
}

export interface SkippedFile {
  /** the file's name or path, as the data source knows it (never sent to the server) */
  name: string;
  reason: string;
}

/** Local images in ImageFolder layout, as far as the core needs to know them. */
export interface LocalData {
  /** where the images are, for messages: a folder path, a picked folder's name */
  readonly location: string;
  /** class folder names, sorted (label i = classes[i]) */
  readonly classes: readonly string[];
  /** usable images */
  readonly size: number;
  /** files left out because they cannot be decoded */
  readonly skipped: readonly SkippedFile[];
}

/** Opens the local images with a task's preprocessing. Throws `DataError` for data that cannot be used. */
export interface DataSource<D extends LocalData = LocalData> {
  open(preprocess: PreprocessConfig): Promise<D>;
}

/** A task the backend has loaded: the frozen backbone, the data, the SNELL settings. */
export interface LoadTaskInput<D extends LocalData> {
  task: Task;
  config: VitConfig;
  backbone: Backbone;
  data: D;
  snell: SnellConfig;
}

export interface RoundTraining {
  start: RoundStart;
  /** the round's global state, float32, in wire order */
  initial: TensorMap;
  /** aborted at the deadline, on a new round or task, and on stop */
  signal: AbortSignal;
  onProgress: (progress: TrainProgress) => void;
}

export interface TrainedRound {
  /** the trained state; the core puts only the round's names on the wire */
  state: TensorMap;
  metrics: TrainMetrics;
}

export interface LoadedTask {
  /** Steps one round will take; throws `TaskConfigError` for trainer settings this backend cannot run. */
  plan(start: Pick<RoundStart, 'seed' | 'overrides'>): { totalSteps: number };
  /** Trains one round; rejects when `signal` aborts. */
  train(round: RoundTraining): Promise<TrainedRound>;
  /** Releases the model; called once no round is training. */
  dispose(): void;
}

/** What trains: a tfjs backend in this thread, worker threads, a Web Worker. */
export interface TrainingBackend<D extends LocalData = LocalData> {
  /** Picks and starts the compute backend; resolves to its name ('webgpu', 'wasm', 'cpu', …). */
  init(): Promise<string>;
  /** Loads a task; throws `TaskConfigError` for settings it cannot run. */
  load(input: LoadTaskInput<D>): Promise<LoadedTask>;
}

/** A platform's three seams and how it introduces itself in `join`. */
export interface ClientShell<D extends LocalData = LocalData> {
  platform: 'node' | 'browser';
  userAgent: string;
  backbones: BackboneCache;
  data: DataSource<D>;
  backend: TrainingBackend<D>;
}
