// A simulation training thread: its own tfjs backend and one copy of the backbone, the training pool,
// and `train` of @fedsnell/train, exactly as a client trains on the main thread (loaded through
// sim-worker-entry.cjs in the repository).
import { parentPort } from 'node:worker_threads';
import { preprocessFor } from '@fedsnell/client';
import { rawImageDataset } from '@fedsnell/data';
import { parseSafetensors } from '@fedsnell/tensor-io';
import { parseBackendChoice, train, useBackend } from '@fedsnell/train';
import { resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import type { FromSimWorker, SimWorkerInit, ToSimWorker } from './sim-workers';

const port = parentPort;
if (!port) throw new Error('sim-worker-main.ts must run in a worker thread');
let loaded: { init: SimWorkerInit; model: VisionTransformer } | undefined;

async function handle(msg: ToSimWorker): Promise<FromSimWorker | undefined> {
  switch (msg.type) {
    case 'init': {
      await useBackend(parseBackendChoice(msg.backend));
      const config = resolveVitConfig(msg.configJson);
      loaded = { init: msg, model: VisionTransformer.fromTensors(config, parseSafetensors(msg.backboneBytes).tensors) };
      return { type: 'ready' };
    }
    case 'train': {
      if (!loaded) throw new Error('sim worker: train received before init');
      const { init, model } = loaded;
      const shard = msg.shard;
      const data = rawImageDataset(init.classes, Int32Array.from(shard, (i) => init.labels[i]), (i) => init.images[shard[i]], preprocessFor(model.config));
      const trained = await train({ model, data, initial: msg.initial, snell: msg.snell, config: msg.config });
      return { type: 'trained', id: msg.id, state: trained.state, metrics: trained.metrics };
    }
    case 'close':
      loaded?.model.dispose();
      loaded = undefined;
      return undefined;
  }
}

// one message at a time, in order: a round must not start training before init has finished
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToSimWorker) => {
  queue = queue.then(async () => {
    let reply: FromSimWorker | undefined;
    try {
      reply = await handle(msg);
    } catch (error) {
      reply = { type: 'error', id: msg.type === 'train' ? msg.id : undefined, message: error instanceof Error ? error.message : String(error) };
    }
    if (reply) port.postMessage(reply);
    if (msg.type === 'close') port.close();
  });
});
