import type { Task } from '@fedsnell/protocol';
import { resolveVitConfig } from '@fedsnell/vit';
import { BackboneTooLargeError, DataError, isRetryable, messageOf, TaskConfigError } from './errors';
import type { ClientEvent, ClientLogger } from './events';
import type { Backbone, BackboneRequest, ClientShell, LoadedTask, LocalData } from './seams';
import { checkClasses, preprocessFor, snellConfigOf } from './task-config';

export interface PrepareContext<D extends LocalData> {
  shell: ClientShell<D>;
  /** the backbone's absolute URL and headers */
  request: { url: string; headers: Record<string, string> };
  maxBackboneBytes: number;
  downloadAttempts: number;
  /** back-off before retry `attempt` (0-based) */
  retryDelay: (attempt: number) => number;
  signal: AbortSignal;
  emit: (event: ClientEvent) => void;
  logger: ClientLogger;
}

export interface PreparedTask<D extends LocalData> {
  task: Task;
  data: D;
  loaded: LoadedTask;
}

/**
 * Everything between receiving a task and being ready to train it: the backbone (bounded, fetched with
 * retries, verified), the local data (checked against the task's classes), the SNELL settings and the
 * backend's model. Throws a `ClientError` naming what cannot be used.
 */
export async function prepareTask<D extends LocalData>(task: Task, ctx: PrepareContext<D>): Promise<PreparedTask<D>> {
  const { shell, logger } = ctx;
  // a declared size is checked before any byte is fetched: a server cannot make a client fill its disk
  if (task.backbone.bytes > ctx.maxBackboneBytes) throw new BackboneTooLargeError(task.backbone.bytes, ctx.maxBackboneBytes);
  const backbone = await fetchBackbone(task, ctx);
  logger.info(backbone.cached ? 'backbone found in cache' : 'backbone downloaded', { location: backbone.location, downloadedBytes: backbone.downloadedBytes });
  let config;
  try {
    config = resolveVitConfig(task.backbone.config);
  } catch (error) {
    throw new TaskConfigError(`task ${task.taskId} has a backbone config.json this client cannot use: ${messageOf(error)}`);
  }
  const data = await shell.data.open(preprocessFor(config));
  if (data.skipped.length > 0) {
    const first = data.skipped[0];
    logger.warn('skipped files that cannot be decoded', { skipped: data.skipped.length, first: `${first.name}: ${first.reason}` });
  }
  ctx.emit({ type: 'data', location: data.location, examples: data.size, skipped: data.skipped.length, ...(data.skipped[0] ? { firstSkipped: `${data.skipped[0].name}: ${data.skipped[0].reason}` } : {}) });
  // A client's private data often covers only some of the task's classes (non-IID splits): every
  // class folder must exist, so that labels index the task's classes, but it may be empty.
  checkClasses(task, data.classes, data.location);
  if (data.size === 0) throw new DataError(`data folder ${data.location} has no usable image for task ${task.taskId}`);
  const min = task.data.minExamples;
  if (min !== undefined && data.size < min) {
    throw new DataError(`data folder ${data.location} must hold at least ${min} usable images for task ${task.taskId} but has ${data.size}`);
  }
  const snell = snellConfigOf(task);
  const loaded = await shell.backend.load({ task, config, backbone, data, snell });
  return { task, data, loaded };
}

/**
 * Fetches the backbone, retrying failures worth a retry (each resumes) with the reconnect back-off;
 * a wrong hash, a refusal or a stop is final. Once it gives up, what the attempts left is discarded.
 */
async function fetchBackbone<D extends LocalData>(task: Task, ctx: PrepareContext<D>): Promise<Backbone> {
  const request: BackboneRequest = {
    url: ctx.request.url,
    headers: ctx.request.headers,
    sha256: task.backbone.sha256,
    bytes: task.backbone.bytes,
    signal: ctx.signal,
    onProgress: (p) => ctx.emit({ type: 'backbone', ...p }),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.shell.backbones.fetch(request);
    } catch (error) {
      const message = messageOf(error);
      if (ctx.signal.aborted) throw error;
      if (attempt + 1 >= ctx.downloadAttempts || !isRetryable(error)) {
        await ctx.shell.backbones.discard(task.backbone.sha256).catch((e: unknown) => ctx.logger.warn('could not discard a partial backbone', { reason: messageOf(e) }));
        throw error;
      }
      const delayMs = ctx.retryDelay(attempt);
      ctx.emit({ type: 'error', message: `backbone download failed (${message}); retrying in ${delayMs} ms`, fatal: false });
      ctx.logger.warn('backbone download failed; retrying', { attempt: attempt + 1, delayMs, reason: message });
      await sleep(delayMs, ctx.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
