// Entry of a gradient worker thread (loaded through worker-entry.cjs, which registers tsx).
import { parentPort } from 'node:worker_threads';
import { GradientWorker } from './gradient-worker';
import type { FromWorker, ToWorker } from './messages';

const port = parentPort;
if (!port) throw new Error('worker-main.ts must run in a worker thread');
const worker = new GradientWorker();
// Messages are handled strictly in order: a step must not start before init has finished.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(async () => {
    const reply: FromWorker | undefined = await worker.handle(msg);
    if (reply?.type === 'result') port.postMessage(reply, reply.grads.map((g) => g.buffer as ArrayBuffer));
    else if (reply) port.postMessage(reply);
    if (msg.type === 'close') port.close();
  });
});
