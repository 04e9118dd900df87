import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPO = join(__dirname, '../../..');
export const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/fedsnell.cjs` in a child process, as a user would. */
export function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/fedsnell.cjs'), ...args], {
      cwd: REPO,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fedsnell ${args.join(' ')} timed out`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The lines a command printed on stderr that are its own (drops native driver chatter). */
export function ownErrorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('fedsnell'));
}
