import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { decodeAdapter, type AdapterFile } from '@fedsnell/snell';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { errorMessage } from '@fedsnell/util';

interface PullOpts {
  server: string;
  adminToken: string;
  out: string;
  round?: number;
  timeout: number;
  json?: boolean;
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description("download a coordinator's aggregated adapter (GET /api/adapter), check it, write it atomically")
    .requiredOption('--server <url>', 'coordinator base URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--admin-token <token>', 'admin token (client tokens are refused)')
    .requiredOption('--out <file>', 'adapter .safetensors to write')
    .option('--round <n>', 'the global state after round n (default: the latest)', numberOption('--round', 0, 1e9, true))
    .option('--timeout <s>', 'give up after this many seconds', numberOption('--timeout', 1, 86_400), 120)
    .option('--json', 'print one JSON object: {out, round, bytes, sha256, modules}')
    .action(action('pull', (opts: PullOpts) => runPull(opts)));
}

/** `<server>/api/adapter[?round=N]`, keeping a path prefix of the server URL (a coordinator behind a proxy). */
export function adapterUrl(server: string, round?: number): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`--server must be an absolute http(s) URL but got '${server}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--server must be an http: or https: URL but got '${server}'`);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/api/adapter`;
  url.search = round === undefined ? '' : `?round=${round}`;
  return url;
}

async function runPull(opts: PullOpts): Promise<void> {
  const url = adapterUrl(opts.server, opts.round);
  const bytes = await download(url, opts);
  let adapter: AdapterFile;
  try {
    adapter = decodeAdapter(bytes.body);
  } catch (error) {
    throw new CliError(`${url.href} did not send a valid fedsnell adapter (nothing written): ${errorMessage(error)}`);
  }
  const out = resolve(opts.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, bytes.body);
  const round = roundOf(adapter, bytes.disposition) ?? opts.round ?? null;
  const summary = {
    out,
    round,
    bytes: bytes.body.byteLength,
    sha256: createHash('sha256').update(bytes.body).digest('hex'),
    modules: adapter.modules.length,
  };
  if (opts.json) return printJson(summary);
  process.stdout.write(
    `wrote ${out} (${summary.modules} modules, ${(summary.bytes / 1024).toFixed(1)} KiB, round ${round ?? 'unknown'}, sha256 ${summary.sha256})\n`,
  );
}

async function download(url: URL, opts: PullOpts): Promise<{ body: Uint8Array; disposition: string | null }> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${opts.adminToken}` }, signal: AbortSignal.timeout(opts.timeout * 1000) });
  } catch (error) {
    throw new CliError(`cannot reach ${url.origin}: ${networkReason(error)}`, { code: 'UNREACHABLE' });
  }
  if (response.status === 401 || response.status === 403) {
    throw new CliError(`${url.origin} refused the admin token (${response.status}): ${await responseMessage(response)}`, { code: 'UNAUTHORIZED' });
  }
  if (response.status === 404) {
    throw new CliError(`${url.origin} has no adapter${opts.round === undefined ? '' : ` for round ${opts.round}`} (404): ${await responseMessage(response)}`, { code: 'NOT_FOUND' });
  }
  if (response.status !== 200) throw new CliError(`GET ${url.href} answered ${response.status}: ${await responseMessage(response)}`);
  let body: Uint8Array;
  try {
    body = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new CliError(`GET ${url.href} broke off: ${networkReason(error)}`);
  }
  return { body, disposition: response.headers.get('content-disposition') };
}

/** The coordinator's own error text (`{error: {code, message}}`), or the status text. */
async function responseMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message.split('\n')[0];
  } catch {
    // not JSON: fall through to the status text
  }
  return response.statusText || 'no reason given';
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return typeof cause?.message === 'string' ? cause.message : errorMessage(error);
}

/**
 * The completed round (0-based, as /api/rounds numbers it) whose adapter this is: the admin API's
 * attachment name, else the adapter's metadata (which a coordinator writes with the same number).
 */
function roundOf(adapter: AdapterFile, disposition: string | null): number | undefined {
  const match = /adapter-round-(\d+)\.safetensors/.exec(disposition ?? '');
  if (match) return Number(match[1]);
  const meta = adapter.extra['round'];
  return typeof meta === 'number' && Number.isInteger(meta) && meta >= 0 ? meta : undefined;
}
