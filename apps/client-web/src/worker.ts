// The training worker: the whole federated client (connection, rounds, training, delivery) runs here,
// so the page stays responsive. It reports what happens as messages (./messages.ts).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { ClientError, createClient, type Client, type TrainingBackend } from '@fedsnell/client';
import { loadTfjsTask, type DatasetData } from '@fedsnell/client/training';
import { cacheStorageBackbones } from './cache-storage-backbones';
import type { BackendInfo, BackendPreference, FromWorker, StartMessage, ToWorker } from './messages';
import { openPickedFolder, pickedFolderSource } from './picked-folder';
import { errorMessage } from '@fedsnell/util';

const post = (message: FromWorker, transfer: Transferable[] = []) => globalThis.postMessage(message, { transfer });

const ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuLike {
  requestAdapter(): Promise<{ info?: GpuAdapterInfo; isFallbackAdapter?: boolean } | null>;
}

async function adapterInfo(): Promise<BackendInfo['adapter']> {
  const gpu: GpuLike | undefined = Reflect.get(navigator, 'gpu');
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    fallback: adapter.isFallbackAdapter === true,
  };
}

/** WebGPU first, then WebGL, then wasm (threaded when the page is cross-origin isolated), then cpu. */
async function pickBackend(preference: BackendPreference, wasmThreads: boolean): Promise<BackendInfo> {
  setWasmPaths(new URL('wasm/', self.location.href).href);
  if (!wasmThreads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const order = preference === 'auto' ? ORDER : [preference];
  const tried: BackendInfo['tried'] = [];
  const adapter = order.includes('webgpu') ? await adapterInfo() : null;
  for (const name of order) {
    try {
      const got = await useBackend(name);
      const threads = got === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : null;
      return { name: got, adapter, crossOriginIsolated: self.crossOriginIsolated, wasmThreads: threads, tried };
    } catch (error) {
      tried.push({ name, reason: errorMessage(error) });
    }
  }
  throw new ClientError('OPTIONS', `no tfjs backend starts in this browser (${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')})`);
}

function browserBackend(message: StartMessage): TrainingBackend<DatasetData> {
  return {
    init: async () => {
      const info = await pickBackend(message.backend, message.wasmThreads);
      post({ type: 'backend', info });
      return info.name;
    },
    load: async (input) => {
      post({ type: 'skipped', files: [...input.data.skipped] });
      const { epochs, batchSize } = input.task.trainer;
      post({ type: 'plan', epochs, stepsPerEpoch: Math.ceil(input.data.size / batchSize) });
      const loaded = loadTfjsTask(input);
      return {
        ...loaded,
        train: async (round) => {
          const stateBytes = round.start.state.reduce((sum, t) => sum + t.data.byteLength, 0);
          post({ type: 'round-bytes', round: round.start.round, bytes: stateBytes });
          try {
            return await loaded.train(round);
          } finally {
            const memory = tf.memory();
            post({ type: 'memory', round: round.start.round, numTensors: memory.numTensors, numBytes: memory.numBytes });
          }
        },
      };
    },
  };
}

let client: Client | null = null;

async function start(message: StartMessage): Promise<void> {
  if (client) await client.stop('restarted');
  const shell = {
    platform: 'browser' as const,
    userAgent: `fedsnell-client-web ${navigator.userAgent}`.slice(0, 200),
    backbones: cacheStorageBackbones(),
    data: pickedFolderSource(message.folder, message.files),
    backend: browserBackend(message),
  };
  const current = createClient(
    {
      server: message.server,
      token: message.token,
      ...(message.clientId ? { clientId: message.clientId } : {}),
      onEvent: (event) => post({ type: 'event', event }),
    },
    shell,
  );
  client = current;
  try {
    const result = await current.start();
    post({ type: 'stopped', reason: result.reason, fatal: false });
  } catch (error) {
    post({ type: 'stopped', reason: errorMessage(error), fatal: true, ...(error instanceof ClientError ? { code: error.code } : {}) });
  } finally {
    if (client === current) client = null;
  }
}

globalThis.addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  if (message.type === 'start') void start(message);
  else if (message.type === 'stop') void client?.stop('stopped from the page');
  else if (message.type === 'inspect') {
    void openPickedFolder(message.folder, message.files, message.preprocess).then(
      async (data) => {
        const all = Array.from({ length: data.size }, (_v, i) => i);
        const { x, y } = await data.dataset.load(all);
        post({ type: 'inspected', classes: [...data.classes], labels: Array.from(y), x, skipped: [...data.skipped] }, [x.buffer]);
      },
      (error: Error) => post({ type: 'stopped', reason: error.message, fatal: true }),
    );
  }
});
