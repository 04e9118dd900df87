import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { BackboneTooLargeError, ClientError, type ClientEvent, type ClientResult } from '@fedsnell/client';
import { createNodeClient } from '@fedsnell/client-node';
import { parseBackendChoice, type BackendChoice } from '@fedsnell/train';
import { resolveWorkers } from '@fedsnell/train/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { progressBar } from '../lib/progress';
import { errorMessage } from '@fedsnell/util';

interface ClientOpts {
  server: string;
  token: string;
  data: string;
  backend: string;
  clientId?: string;
  cache: string;
  rounds: number;
  workers: string;
  serverTimeout: number;
  waitForServer?: boolean;
  maxBackboneMb: number;
  json?: boolean;
}

const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function registerClient(program: Command): void {
  program
    .command('client')
    .description('join a coordinator as a Node client: train on a local ImageFolder, send back only the SNELL factors')
    .requiredOption('--server <url>', 'coordinator base URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--token <token>', 'client token')
    .requiredOption('--data <dir>', 'local ImageFolder (one sub-folder per class); its images never leave this machine')
    .option('--backend <name>', 'auto|webgpu|wasm|cpu', 'auto')
    .option('--client-id <id>', 'id to ask for (default: the server assigns one)')
    .option('--cache <dir>', 'backbone cache folder', join(homedir(), '.cache', 'fedsnell'))
    .option('--rounds <n>', 'exit after n accepted updates (0 = run until stopped)', numberOption('--rounds', 0, 1e9, true), 0)
    .option('--workers <n|auto>', 'data-parallel worker threads for training, wasm/cpu in each; auto = one per core (max 4) on wasm/cpu for backbones of ≥ 0.1 GFLOP per image, else 1', 'auto')
    .option('--server-timeout <s>', 'give up when no coordinator answers within s seconds of the start', numberOption('--server-timeout', 1, 7 * 86400), 60)
    .option('--wait-for-server', 'keep trying to reach the coordinator for as long as it takes (e.g. started before it)')
    .option('--max-backbone-mb <n>', 'refuse a task whose backbone is larger than n MiB', numberOption('--max-backbone-mb', 1, 1 << 20), 2048)
    .option('--json', 'print one JSON object when the client stops (errors too)')
    .action(action('client', (opts: ClientOpts) => runClient(opts)));
}

async function runClient(opts: ClientOpts): Promise<void> {
  let backend: BackendChoice;
  try {
    backend = parseBackendChoice(opts.backend);
  } catch {
    throw new CliError(`--backend must be auto, webgpu, wasm or cpu but got '${opts.backend}'`);
  }
  if (opts.clientId !== undefined && !CLIENT_ID.test(opts.clientId)) {
    throw new CliError(`--client-id must be 1 to 128 characters from [A-Za-z0-9_.:-] but got '${opts.clientId}'`);
  }
  let workers: number | 'auto';
  try {
    // 'auto' is decided per task (backbone size, batch, backend) by the Node client
    workers = opts.workers === 'auto' ? 'auto' : resolveWorkers(opts.workers, '--workers');
  } catch (error) {
    throw new CliError(errorMessage(error));
  }
  if (workers !== 'auto' && workers > 1 && backend === 'auto') backend = 'wasm';
  const data = resolve(opts.data);
  if (!(await stat(data).catch(() => undefined))?.isDirectory()) throw new CliError(`--data must be an ImageFolder directory but ${data} is not one`);
  const view = opts.json ? undefined : new StatusView();
  let client;
  try {
    client = createNodeClient({
      server: opts.server,
      token: opts.token,
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
      dataDir: data,
      backend,
      cacheDir: resolve(opts.cache),
      maxRounds: opts.rounds,
      workers,
      serverTimeoutMs: opts.waitForServer ? Infinity : opts.serverTimeout * 1000,
      maxBackboneBytes: opts.maxBackboneMb * 2 ** 20,
      onEvent: (e) => view?.show(e),
    });
  } catch (error) {
    throw new CliError(errorMessage(error));
  }
  const onSignal = (signal: NodeJS.Signals) => {
    view?.line(`${signal}: stopping`);
    void client.stop(`stopped by ${signal}`);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await client.start();
    if (opts.json) return printJson(result);
    process.stdout.write(`${summaryLine(result)}\n`);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    view?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The one line a client prints when it stops. */
export function summaryLine(result: ClientResult): string {
  const accepted = result.rounds.filter((r) => r.outcome === 'accepted').length;
  const head = `client ${result.clientId ?? '(none)'}: ${accepted} update(s) accepted in ${result.rounds.length} round(s)`;
  const finished = result.finished;
  if (!finished) return `${head}; ${result.reason}`;
  const accuracy = finished.metrics['accuracy'];
  const final = accuracy === undefined ? '' : `, final eval accuracy ${(100 * accuracy).toFixed(1)}%`;
  return `${head}; task ${finished.taskId} finished after ${finished.roundsCompleted} round(s)${final}`;
}

/** A client failure in the command line's words: the flag to change, and the core's code for --json. */
function cliErrorOf(error: unknown): CliError {
  if (!(error instanceof ClientError)) return new CliError(errorMessage(error));
  if (error instanceof BackboneTooLargeError) {
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    return new CliError(`the task's backbone is ${mib(error.bytes)} MiB but --max-backbone-mb is ${mib(error.maxBytes)}: raise it to accept this backbone`, { code: error.code });
  }
  if (error.code === 'UNREACHABLE') return new CliError(`${error.message}; check --server, or pass --wait-for-server to keep trying`, { code: error.code });
  return new CliError(error.message, { code: error.code });
}

/** Status lines and progress bars on stderr (stdout stays for the result). */
class StatusView {
  private bar: SingleBar | undefined;

  line(text: string): void {
    this.closeBar();
    process.stderr.write(`client: ${text}\n`);
  }

  close(): void {
    this.closeBar();
  }

  show(e: ClientEvent): void {
    switch (e.type) {
      case 'connected':
        return this.line(`connected to ${e.server}`);
      case 'joined':
        return this.line(`joined as ${e.clientId}, task ${e.taskId}`);
      case 'backbone':
        if (e.phase === 'download') {
          this.bar ??= progressBar('backbone', e.totalBytes);
          this.bar.update(e.receivedBytes, { info: `${(e.receivedBytes / 2 ** 20).toFixed(1)} MiB` });
        }
        return;
      case 'data':
        return e.skipped > 0 ? this.line(`warning: left out ${e.skipped} file(s) of ${e.location} that cannot be decoded (first: ${e.firstSkipped})`) : undefined;
      case 'ready':
        return this.line(`ready on ${e.backend}: ${e.examples} local images`);
      case 'round:start':
        this.line(`round ${e.round}: training ${e.totalSteps} step(s), deadline ${new Date(e.deadline).toISOString()}`);
        this.bar = progressBar(`round ${e.round}`, e.totalSteps);
        return;
      case 'train':
        return void this.bar?.update(e.step, { info: `loss ${e.loss.toFixed(4)} ${e.examplesPerSecond.toFixed(1)} img/s` });
      case 'update:acked':
        return this.line(
          e.ack.ok
            ? `round ${e.round}: update accepted (${e.numExamples} examples, loss ${e.metrics.loss.toFixed(4)}, accuracy ${(100 * e.metrics.accuracy).toFixed(1)}%)`
            : `round ${e.round}: update refused (${e.ack.error.code}): ${e.ack.error.message}`,
        );
      case 'round:skipped':
        return this.line(`round ${e.round}: skipped (${e.reason})`);
      case 'round:failed':
        return this.line(`round ${e.round}: cannot train (${e.reason}: ${e.message}); the coordinator was ${e.counted ? 'told' : 'not reached'}`);
      case 'task:finished':
        return this.line(`task ${e.finished.taskId} finished after ${e.finished.roundsCompleted} round(s)`);
      case 'round:end':
        return this.line(`round ${e.end.round} ended: ${e.end.status}, ${e.end.updates} update(s)${e.end.metrics?.['accuracy'] !== undefined ? `, eval accuracy ${(100 * e.end.metrics['accuracy']).toFixed(1)}%` : ''}`);
      case 'reconnecting':
        return this.line(`${e.reason}; reconnecting in ${e.delayMs} ms (attempt ${e.attempt})`);
      case 'server:error':
        return this.line(`server error ${e.error.code}: ${e.error.message}`);
      case 'error':
        return e.fatal ? undefined : this.line(`warning: ${e.message}`);
      default:
        return;
    }
  }

  private closeBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
