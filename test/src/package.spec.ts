import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, type CliResult } from './testing/run-cli';

/** Runs a command (no shell) and collects its output; rejects on timeout. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out; stderr: ${stderr.slice(-800)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment without anything that would point the installed package back at the repository. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TSX_') || key.startsWith('FEDSNELL_') || key.startsWith('npm_')) delete env[key];
  delete env['NODE_OPTIONS'];
  return env;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('the npm package, installed in an empty folder', () => {
  let dir: string;
  let app: string;
  let packed: { files: { path: string }[] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-package-'));
    // npm pack builds the bundle first (prepack)
    const pack = await run('npm', ['pack', '--pack-destination', dir, '--json', '--loglevel=error'], REPO, 300_000);
    if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr.slice(-800)}`);
    packed = (JSON.parse(pack.stdout) as Array<{ filename: string; files: { path: string }[] }>)[0];
    const tarball = join(dir, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0].filename);
    app = join(dir, 'app');
    await mkdir(app);
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], app, 600_000);
    if (install.code !== 0) throw new Error(`npm install failed: ${install.stderr.slice(-800)}`);
  }, 900_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the compiled CLI, the shipped backbone and the sample tasks, and no TypeScript', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['bin/fedsnell.cjs', 'dist/cli/fedsnell.cjs', 'dist/cli/worker-entry.cjs', 'models/fmnist-vit/config.json', 'models/fmnist-vit/model.safetensors', 'deploy/tasks/mnist-snell.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    // nothing in the installed tree can run TypeScript: the launcher must take the bundle
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
  });

  it('npx fedsnell --help lists the commands', async () => {
    const r = await run('npx', ['--no-install', 'fedsnell', '--help'], app, 60_000);
    expect(r.code).toBe(0);
    for (const command of ['coordinator', 'client', 'demo', 'train', 'merge', 'pull']) expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  }, 60_000);

  it('fedsnell demo federates one round on the shipped backbone and writes its report', async () => {
    const out = join(dir, 'demo-out');
    const r = await run(
      'npx',
      ['--no-install', 'fedsnell', 'demo', '--out', out, '--rounds', '1', '--clients', '2', '--per-class', '5', '--json'],
      app,
      300_000,
    );
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fedsnell'))).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { backbone: string; rounds: { status: string; updates: number }[]; report: string };
    expect(summary.backbone).toBe(join(app, 'node_modules/fedsnell/models/fmnist-vit'));
    expect(summary.rounds.map((x) => [x.status, x.updates])).toEqual([['aggregated', 2]]);
    expect(JSON.parse(await readFile(summary.report, 'utf8')).rounds).toHaveLength(2);
    expect(existsSync(join(out, 'merged-backbone/model.safetensors'))).toBe(true);
  }, 300_000);

  it('fedsnell coordinator serves the task and stops on SIGTERM', async () => {
    const data = join(dir, 'eval');
    const exported = await run('npx', ['--no-install', 'fedsnell', 'data', 'export', '--set', 'mnist', '--out', data, '--per-class', '2'], app, 60_000);
    expect(exported.code).toBe(0);
    const backbone = join(app, 'node_modules/fedsnell/models/fmnist-vit');
    const child = spawn(
      process.execPath,
      [join(app, 'node_modules/.bin/fedsnell'), 'coordinator', '--backbone', backbone, '--eval-data', data, '--task', join(app, 'node_modules/fedsnell/deploy/tasks/mnist-snell.json'),
        '--state', join(dir, 'state'), '--port', '0', '--client-token', 'c1', '--admin-token', 'a1', '--backend', 'wasm', '--json'],
      { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const summary = await new Promise<{ url: string; taskId: string }>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const line = stdout.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line) as { url: string; taskId: string });
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => reject(new Error(`coordinator exited (${code}): ${stderr.slice(-800)}`)));
      });
      expect(summary.taskId).toBe('mnist-snell');
      const status = await fetch(`${summary.url}/api/status`, { headers: { Authorization: 'Bearer a1' } });
      expect(status.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
