import { Command, CommanderError } from 'commander';

/**
 * An error whose message is the whole one-line reason shown to the user. `code` is what `--json`
 * prints (`USAGE` for a bad flag or value, `FAILED` when the command could not do its work, or the
 * code of the library error behind it).
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;

  constructor(message: string, options: { code?: string; exitCode?: number } | number = {}) {
    super(message);
    this.name = 'CliError';
    const o = typeof options === 'number' ? { exitCode: options } : options;
    this.exitCode = o.exitCode ?? 1;
    this.code = o.code ?? 'FAILED';
  }
}

/** Prints one JSON object on stdout (the `--json` contract). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The `--json` shape of a failure. */
export function errorJson(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Whether the command line asks for JSON (before commander has parsed it, e.g. for its own errors). */
export function wantsJson(argv: readonly string[] = process.argv): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function codeOf(error: unknown): string {
  if (error instanceof CliError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  // library errors with a machine-readable code (ClientError, ImageFolderError) keep it
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'FAILED';
}

/**
 * Reports a failure: with `--json`, `{"error":{"code","message"}}` on stdout; otherwise one line on
 * stderr, `fedsnell <cmd>: <reason>`. Sets a non-zero exit code. Stack traces only with FEDSNELL_DEBUG=1.
 */
export function reportError(name: string, error: unknown, json: boolean): void {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (json) printJson(errorJson(codeOf(error), message));
  else process.stderr.write(`${name ? `fedsnell ${name}` : 'fedsnell'}: ${message}\n`);
  if (process.env['FEDSNELL_DEBUG'] === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
}

/** What `fedsnell` prints after a usage error (main.ts: showHelpAfterError). */
export const USAGE_HINT = '(run with --help for usage)';

/**
 * Makes commander's own errors (missing required option, unknown option, bad argument) follow the
 * `--json` contract too: the message as `{"error":{"code":"USAGE",…}}` on stdout, no usage hint.
 * Call before registering commands, which inherit the output settings.
 */
export function configureErrorOutput(program: Command, argv: readonly string[] = process.argv): void {
  if (!wantsJson(argv)) return;
  program.configureOutput({
    outputError: (text) => printJson(errorJson('USAGE', text.replace(/^error: /, '').trim())),
    // the usage hint after an error is dropped (the JSON says it all); help asked for on stderr stays
    writeErr: (text) => {
      if (text.trim() !== USAGE_HINT) process.stderr.write(text);
    },
  });
}

/**
 * Wraps a command action: any failure is reported by `reportError`, as JSON when the command was
 * given `--json`.
 */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CommanderError) throw err;
      const command = args[args.length - 1];
      const json = command instanceof Command ? command.opts()['json'] === true : wantsJson();
      reportError(name, err, json);
    }
  };
}

/** Parses an option value as a finite number within [min, max]. */
export function numberOption(flag: string, min = -Infinity, max = Infinity, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      const kind = integer ? 'an integer' : 'a number';
      throw new CliError(`${flag} must be ${kind} in [${min}, ${max}] but got '${value}'`, { code: 'USAGE' });
    }
    return n;
  };
}
