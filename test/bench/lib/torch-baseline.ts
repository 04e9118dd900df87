import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { BenchModelSpec } from './random-backbone';

export interface TorchResult {
  ok: boolean;
  note?: string;
  torch?: string;
  threads?: number;
  /** cpuMsPerStep: CPU time of all the process's threads per step (median) */
  methods?: Record<string, { stepMs: number; imagesPerSecond: number; cpuMsPerStep?: number; steps: number }>;
}

export const TORCH_PYTHON = '/usr/bin/python3';

/** Whether Debian's pthread OpenBLAS is installed (python3-torch links against it). */
export function openblasNote(): string | undefined {
  const r = spawnSync('dpkg', ['-s', 'libopenblas0-pthread'], { encoding: 'utf8' });
  return r.status === 0 && /Status: install ok installed/.test(r.stdout)
    ? undefined
    : 'libopenblas0-pthread is not installed: the lead must install it (apt-get install libopenblas0-pthread) for the PyTorch baseline';
}

/**
 * Runs test/bench/torch_step.py with Debian's python3 (the pyenv python3 on PATH has no torch).
 * The child loses OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE and gets OMP_WAIT_POLICY=PASSIVE: on a
 * 2-core machine shared with other processes, OpenMP's spinning workers otherwise slow torch 10-50x.
 */
export function runTorch(
  spec: BenchModelSpec,
  opts: { batch: number; rank: number; sparsity: number; heads: number; warmup: number; steps: number; threads: number; methods: string[] },
): TorchResult {
  const missing = openblasNote();
  if (missing) return { ok: false, note: missing };
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const args = {
    img: spec.img, patch: spec.patch, embed: spec.embed, depth: spec.depth, heads: spec.heads, classes: spec.classes,
    batch: opts.batch, rank: opts.rank, sparsity: opts.sparsity, snellHeads: opts.heads,
    warmup: opts.warmup, steps: opts.steps, threads: opts.threads, methods: opts.methods,
  };
  const r = spawnSync(TORCH_PYTHON, [path.join(__dirname, '..', 'torch_step.py'), JSON.stringify(args)], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: 15 * 60 * 1000,
  });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0) return { ok: false, note: `torch_step.py exited ${r.status ?? r.signal}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { ok: true, ...(JSON.parse(last) as Omit<TorchResult, 'ok'>) };
}
