import { CommanderError } from 'commander';

/** An error whose message is the whole one-line reason shown to the user (exit code 1). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Prints one JSON object on stdout (the `--json` contract). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * Wraps a command action: any failure becomes one line on stderr, `fedsnell <cmd>: <reason>`,
 * and a non-zero exit code. Stack traces only with FEDSNELL_DEBUG=1.
 */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CommanderError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`fedsnell ${name}: ${message.split('\n')[0]}\n`);
      if (process.env['FEDSNELL_DEBUG'] === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    }
  };
}

/** Parses an option value as a finite number within [min, max]. */
export function numberOption(flag: string, min = -Infinity, max = Infinity, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      const kind = integer ? 'an integer' : 'a number';
      throw new CliError(`${flag} must be ${kind} in [${min}, ${max}] but got '${value}'`);
    }
    return n;
  };
}
