import type { Task } from '@fedsnell/protocol';
import { BackboneDownloadError, BackboneHashError, BackboneTooLargeError } from './errors';
import { SILENT_LOGGER, type ClientEvent } from './events';
import { prepareTask, type PrepareContext } from './prepare-task';
import type { BackboneCache, ClientShell, LocalData } from './seams';

const task: Task = {
  taskId: 't1',
  backbone: { sha256: 'a'.repeat(64), url: '/m', configUrl: '/c', bytes: 100, config: {} },
  snell: { kernel: 'distance', p: 2, scale: 0.1, heads: 2, rank: 4, sparsity: 0.5, targets: [] },
  trainer: { epochs: 1, batchSize: 4, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 0 },
  data: { classes: ['a'] },
  updateDtype: 'f32',
};

/** A cache whose fetch fails with `errors` in turn; records fetches and discards. */
function failingCache(errors: Error[]): BackboneCache & { fetches: number; discarded: string[] } {
  const cache = {
    fetches: 0,
    discarded: [] as string[],
    fetch: async () => {
      throw errors[Math.min(cache.fetches++, errors.length - 1)];
    },
    discard: async (sha256: string) => void cache.discarded.push(sha256),
  };
  return cache;
}

function context(backbones: BackboneCache, events: ClientEvent[] = [], over: Partial<PrepareContext<LocalData>> = {}): PrepareContext<LocalData> {
  const shell: ClientShell = {
    platform: 'node',
    userAgent: 'test',
    backbones,
    data: { open: () => Promise.reject(new Error('not reached')) },
    backend: { init: async () => 'cpu', load: () => Promise.reject(new Error('not reached')) },
  };
  return {
    shell,
    request: { url: 'http://127.0.0.1/m', headers: {} },
    maxBackboneBytes: 1000,
    downloadAttempts: 5,
    retryDelay: () => 0,
    signal: new AbortController().signal,
    emit: (e) => events.push(e),
    logger: SILENT_LOGGER,
    ...over,
  };
}

describe('prepareTask', () => {
  it('refuses a backbone above the limit without fetching it', async () => {
    const cache = failingCache([new Error('not reached')]);
    await expect(prepareTask({ ...task, backbone: { ...task.backbone, bytes: 1001 } }, context(cache))).rejects.toThrow(BackboneTooLargeError);
    expect(cache.fetches).toBe(0);
  });

  it('retries download failures, then discards what they left', async () => {
    const cache = failingCache([new BackboneDownloadError('cut off')]);
    const events: ClientEvent[] = [];
    await expect(prepareTask(task, context(cache, events))).rejects.toThrow('cut off');
    expect([cache.fetches, cache.discarded]).toEqual([5, ['a'.repeat(64)]]);
    expect(events.filter((e) => e.type === 'error').length).toBe(4);
  });

  it('does not retry a wrong hash', async () => {
    const cache = failingCache([new BackboneHashError('http://127.0.0.1/m', 'a'.repeat(64), 'b'.repeat(64))]);
    await expect(prepareTask(task, context(cache))).rejects.toThrow(BackboneHashError);
    expect([cache.fetches, cache.discarded.length]).toEqual([1, 1]);
  });

  it('succeeds after a failed attempt', async () => {
    const cache = failingCache([new BackboneDownloadError('503')]);
    const ok = { bytes: new Uint8Array(1), cached: false, downloadedBytes: 1, location: 'mem' };
    const retried: BackboneCache = { fetch: async () => (cache.fetches++ === 0 ? Promise.reject(new BackboneDownloadError('503')) : ok), discard: cache.discard };
    // the fetch succeeds on the second attempt; the (empty) config then fails, which shows the fetch passed
    await expect(prepareTask(task, context(retried))).rejects.toThrow('backbone config.json this client cannot use');
    expect([cache.fetches, cache.discarded]).toEqual([2, []]);
  });
});
