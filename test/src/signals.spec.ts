import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImageFolder } from '@fedsnell/data/node';
import { FIXTURE, REPO } from './testing/run-cli';

/** Resolves with the coordinator's --json line once it listens (or rejects with what it printed). */
function listening(child: ChildProcess): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { url: string });
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => reject(new Error(`the coordinator exited (${code}) before listening: ${stderr.slice(-500)}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

/** True when 127.0.0.1:port can be bound again. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid` (Linux /proc), so a launcher's children are checked too. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return check();
}

describe('signals reach the command a user started', () => {
  let dir: string;
  let states = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-signals-'));
    await exportImageFolder('mnist', join(dir, 'eval'), { perClass: 2 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const launchers: Array<[string, (args: string[]) => ChildProcess]> = [
    ['node bin/fedsnell.cjs', (args) => spawn(process.execPath, [join(REPO, 'bin/fedsnell.cjs'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })],
    ['npx fedsnell', (args) => spawn('npx', ['--no-install', 'fedsnell', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })],
  ];

  it.each(launchers)('%s coordinator: SIGTERM to its PID stops the coordinator and frees the port', async (_name, launch) => {
    const child = launch([
      'coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--state', join(dir, `state-${states++}`),
      '--port', '0', '--client-token', 'c1', '--admin-token', 'a1', '--backend', 'wasm', '--json',
    ]);
    try {
      const { url } = await listening(child);
      const port = Number(new URL(url).port);
      expect(await portIsFree(port)).toBe(false);
      expect((await fetch(`${url}/api/status`, { headers: { Authorization: 'Bearer a1' } })).status).toBe(200);
      const pid = child.pid as number;
      const processes = [pid, ...descendants(pid)];
      process.kill(pid, 'SIGTERM');
      const end = await exited(child);
      expect(end.code === 0 || end.signal === 'SIGTERM').toBe(true);
      // the launcher's own children (npx runs the command in one) end with it
      expect(await waitUntil(() => processes.every((p) => !isAlive(p)), 5000)).toBe(true);
      expect(await portIsFree(port)).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
