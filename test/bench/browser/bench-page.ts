// Bundled for the browser by browser.bench.ts: times SNELL training steps on one backend.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { DEMO, VIT_TI, type BenchModelSpec } from '../lib/random-backbone';
import { TEST_TINY, timeTraining, type TrainTiming } from '../lib/train-timing';

const SPECS: Record<string, BenchModelSpec> = { [TEST_TINY.name]: TEST_TINY, [DEMO.name]: DEMO, [VIT_TI.name]: VIT_TI };

export interface BenchRequest {
  backend: BackendName;
  threads: boolean;
  config: string;
  batch: number;
  steps: number;
}

export interface BenchAnswer extends TrainTiming {
  backend: string;
  wasmThreads: boolean | null;
}

async function bench(request: BenchRequest): Promise<BenchAnswer> {
  setWasmPaths(new URL('wasm/', location.href).href);
  if (!request.threads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const backend = await useBackend(request.backend);
  const threads = backend === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : null;
  const spec = SPECS[request.config];
  if (!spec) throw new Error(`config must be one of ${Object.keys(SPECS).join(', ')} but got ${request.config}`);
  return { ...(await timeTraining(spec, { batch: request.batch, steps: request.steps })), backend, wasmThreads: threads };
}

async function adapter(): Promise<unknown> {
  const gpu: { requestAdapter(): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null> } | undefined = Reflect.get(navigator, 'gpu');
  const a = await gpu?.requestAdapter();
  return a ? { vendor: a.info?.['vendor'], architecture: a.info?.['architecture'], device: a.info?.['device'], description: a.info?.['description'], fallback: a.isFallbackAdapter === true } : null;
}

Object.assign(window, { bench, adapter });
