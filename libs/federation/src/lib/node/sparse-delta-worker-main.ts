// Entry of a sparse-delta worker thread (loaded through sparse-delta-worker.cjs, which registers tsx;
// the packaged CLI bundles this file as dist/cli/sparse-delta-worker.cjs).
import { parentPort } from 'node:worker_threads';
import type { SnellConfig } from '@fedsnell/snell';
import { errorMessage } from '@fedsnell/util';
import { addSparseDelta, gapsAgainstSums, meanOfSums, type ModuleSum } from '../sparse-deltas';
import type { FromSparseWorker, ToSparseWorker, WireDelta, WireFactors } from './messages';

const port = parentPort;
if (!port) throw new Error('sparse-delta-worker-main.ts must run in a worker thread');
let snell: SnellConfig | null = null;
let sums = new Map<string, ModuleSum>();

function handle(msg: ToSparseWorker): FromSparseWorker {
  if (msg.type === 'init') {
    snell = msg.snell;
    return { type: 'done', id: msg.id };
  }
  if (msg.type === 'clear' || msg.type === 'close') {
    sums = new Map();
    return { type: 'done', id: msg.id };
  }
  if (!snell) throw new Error('the sparse-delta worker got work before init');
  const cfg = snell;
  switch (msg.type) {
    case 'accumulate':
      for (const m of msg.modules) addSparseDelta(sums, m.module, m, msg.weight, cfg);
      return { type: 'done', id: msg.id };
    case 'gaps':
      return { type: 'done', id: msg.id, gaps: gapsAgainstSums(sums, msg.modules.map((m): [string, WireFactors] => [m.module, m]), msg.total, cfg) };
    case 'take': {
      const deltas = [...meanOfSums(sums, msg.total)].map(([module, t]): WireDelta => ({ module, shape: t.shape, data: t.data }));
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
  port.postMessage(reply, reply.type === 'done' && reply.deltas ? reply.deltas.map((d) => d.data.buffer as ArrayBuffer) : []);
  if (msg.type === 'close') port.close();
});
