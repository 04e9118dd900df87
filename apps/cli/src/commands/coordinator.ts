import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadTokensFile, parseTaskFile, startCoordinatorService, streamLogger, type TaskFile } from '@fedsnell/coordinator';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { dataFolderError, selectBackend, transformersCheckpointError } from '../lib/load';
import { errorMessage } from '@fedsnell/util';

interface CoordinatorOpts {
  backbone: string;
  evalData: string;
  task?: string;
  state: string;
  port: number;
  host: string;
  clientToken: string[];
  adminToken?: string;
  backend: string;
  logJson?: boolean;
  protectBackbone?: boolean;
  json?: boolean;
  tokensFile?: string;
  maxConnectionsPerToken?: number;
  exitWhenDone?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerCoordinator(program: Command): void {
  program
    .command('coordinator')
    .description('start a coordinator: serves the backbone and task, runs rounds, evaluates, checkpoints, admin API')
    .requiredOption('--backbone <dir>', 'timm-layout backbone folder sent to clients')
    .requiredOption('--eval-data <dir>', 'ImageFolder the merged model is evaluated on after every round (defines the classes)')
    .option('--task <file>', 'task JSON: snell, trainer, strategy, rounds, seed (see deploy/tasks/)')
    .option('--state <dir>', 'checkpoint folder; a restarted coordinator resumes from it', '.fedsnell-state')
    .option('--port <n>', 'port (0 = any free port)', numberOption('--port', 0, 65535, true), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--client-token <token>', 'token clients join with (repeatable; env FEDSNELL_CLIENT_TOKENS, comma-separated)', collect, [])
    .option('--admin-token <token>', 'token for the admin API (env FEDSNELL_ADMIN_TOKEN)')
    .option('--backend <name>', 'backend for evaluation: auto|webgpu|wasm|cpu', 'auto')
    .option('--tokens-file <file>', 'per-device tokens: one "<token> <clientId>" per line; each token may only use its own id')
    .option('--max-connections-per-token <n>', 'connections one token may hold at once', numberOption('--max-connections-per-token', 1, 1_000_000, true), 64)
    .option('--exit-when-done', 'exit with status 0 once the last round closed (clients are told the task finished)')
    .option('--protect-backbone', 'require a client token for the backbone files too')
    .option('--log-json', 'log one JSON object per line on stderr')
    .option('--json', 'print one JSON object describing the running coordinator on stdout once it listens')
    .action(action('coordinator', (opts: CoordinatorOpts) => runCoordinator(opts)));
}

/** Reads and validates a task file (no path: every default); failures are one-line CLI errors. */
export async function readTask(path: string | undefined): Promise<TaskFile> {
  if (!path) return parseTaskFile({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read task file '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`task file '${path}' is not valid JSON: ${errorMessage(err)}`);
  }
  try {
    return parseTaskFile(json, `task file '${path}'`);
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
}

async function runCoordinator(opts: CoordinatorOpts): Promise<void> {
  const task = await readTask(opts.task);
  const envClients = (process.env['FEDSNELL_CLIENT_TOKENS'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  let clientTokens = [...opts.clientToken, ...envClients];
  let adminToken = opts.adminToken ?? process.env['FEDSNELL_ADMIN_TOKEN'];
  const generated: Record<string, string> = {};
  let deviceTokens: Map<string, string> | undefined;
  if (opts.tokensFile) {
    try {
      deviceTokens = await loadTokensFile(resolve(opts.tokensFile));
    } catch (err) {
      throw new CliError(errorMessage(err));
    }
  }
  if (clientTokens.length === 0 && !deviceTokens?.size) {
    clientTokens = [randomBytes(18).toString('base64url')];
    generated['clientToken'] = clientTokens[0];
  }
  if (!adminToken) {
    adminToken = randomBytes(18).toString('base64url');
    generated['adminToken'] = adminToken;
  }
  if (clientTokens.includes(adminToken) || deviceTokens?.has(adminToken)) throw new CliError('the admin token must differ from every client token');
  const formatError = await transformersCheckpointError(resolve(opts.backbone), '--backbone');
  if (formatError) throw formatError;
  const backend = await selectBackend(opts.backend);
  const logger = streamLogger({ json: opts.logJson });
  // The service opens --eval-data itself: its folder errors are put in the command line's words.
  const service = await startCoordinatorService({
    backboneDir: resolve(opts.backbone),
    evalDataDir: resolve(opts.evalData),
    task,
    stateDir: resolve(opts.state),
    port: opts.port,
    host: opts.host,
    tokens: { client: clientTokens, admin: adminToken },
    logger,
    protectBackbone: opts.protectBackbone ?? false,
    clientTokens: deviceTokens,
    maxConnectionsPerToken: opts.maxConnectionsPerToken,
  }).catch((err: unknown) => {
    throw dataFolderError(err, { flag: '--eval-data' });
  });
  const summary = { ...service.summary, backend, ...(Object.keys(generated).length ? { generatedTokens: generated } : {}) };
  if (opts.json) printJson(summary);
  else {
    process.stdout.write(`fedsnell coordinator listening on ${service.coordinator.url} (task ${String(service.summary['taskId'])}, ${backend})\n`);
    if (generated['clientToken']) process.stdout.write(`client token: ${generated['clientToken']}\n`);
    if (generated['adminToken']) process.stdout.write(`admin token: ${generated['adminToken']}\n`);
  }
  logger.info('effective configuration', { summary: JSON.stringify(service.summary) });
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      service.close().finally(resolveStop);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (opts.exitWhenDone) {
      void service.coordinator.finished.then((done) => {
        const accuracy = done.metrics['accuracy'];
        if (opts.json) printJson({ finished: done });
        else process.stdout.write(`task ${done.taskId} finished: ${done.roundsCompleted} rounds${accuracy === undefined ? '' : `, accuracy ${accuracy.toFixed(4)}`}\n`);
        stop('task finished');
      });
    }
  });
}
