// Entry of a sparse-delta worker thread (loaded through sparse-delta-worker.cjs, which registers tsx;
// the packaged CLI bundles this file as dist/cli/sparse-delta-worker.cjs).
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '@fedsnell/util';
import { SparseDeltaSums } from '../sparse-deltas';
import type { FromSparseWorker, ToSparseWorker, WireDelta, WireFactors } from './messages';

const port = parentPort;
if (!port) throw new Error('sparse-delta-worker-main.ts must run in a worker thread');
// The means live in shared memory: the main thread gets them without a copy, and this thread keeps
// them to measure gaps against (no second division pass, no second copy of 340 MB at ViT-B).
const shared = (length: number) => new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
let sums: SparseDeltaSums | null = null;

function handle(msg: ToSparseWorker): FromSparseWorker {
  if (msg.type === 'init') {
    sums = new SparseDeltaSums(msg.snell, shared);
    return { type: 'done', id: msg.id };
  }
  if (msg.type === 'clear' || msg.type === 'close') {
    sums?.clear();
    return { type: 'done', id: msg.id };
  }
  if (!sums) throw new Error('the sparse-delta worker got work before init');
  switch (msg.type) {
    case 'accumulate':
      for (const m of msg.modules) sums.add(m.module, m, msg.weight);
      return { type: 'done', id: msg.id };
    case 'gaps':
      return { type: 'done', id: msg.id, gaps: sums.gaps(msg.modules.map((m): [string, WireFactors] => [m.module, m]), msg.total) };
    case 'take': {
      const deltas = [...sums.take(msg.total)].map(([module, t]): WireDelta => ({ module, shape: t.shape, data: t.data }));
      return { type: 'done', id: msg.id, deltas };
    }
  }
  throw new Error(`the sparse-delta worker got an unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
}

port.on('message', (msg: ToSparseWorker) => {
  let reply: FromSparseWorker;
  try {
    reply = handle(msg);
  } catch (error) {
    reply = { type: 'error', id: msg.id, message: errorMessage(error) };
  }
  // the means are in shared memory: posted, not transferred
  port.postMessage(reply);
  if (msg.type === 'close') port.close();
});
