import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseSafetensors, serializeSafetensors } from '@fedsnell/tensor-io';
import { encodeAdapter, resolveSnellConfig } from '@fedsnell/snell';
import { flat, loadGoldens, relError, type Golden } from '@fedsnell/snell/testing';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const goldens = loadGoldens().map((g) => [g.name, g] as const);

/** Runs the real command in a child process; never throws, returns the exit code and output. */
async function fedsnell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/fedsnell.cjs'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const MODULE = 'blocks.0.attn.q';

function writeGoldenAdapter(dir: string, name: string, g: Golden): string {
  const d = g.rank / g.heads;
  const path = join(dir, `${name}.safetensors`);
  const bytes = encodeAdapter({
    config: resolveSnellConfig({ heads: g.heads, rank: g.rank, p: g.p, scale: g.scale, sparsity: g.sparsity }),
    modules: [MODULE],
    tensors: new Map([
      [`${MODULE}.snell_A`, { shape: [g.heads, g.in, d], data: Float32Array.from(flat(g.A)) }],
      [`${MODULE}.snell_B`, { shape: [g.heads, g.out, d], data: Float32Array.from(flat(g.B)) }],
    ]),
    extra: {},
  });
  writeFileSync(path, bytes);
  return path;
}

describe('fedsnell delta', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fedsnell-delta-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the golden vectors', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(3);
  });

  it.each(goldens)('reproduces S(ΔW) and kept of %s', async (name, g) => {
    const adapter = writeGoldenAdapter(dir, name, g);
    const out = join(dir, `${name}.delta.safetensors`);
    const res = await fedsnell('delta', adapter, '--out', out, '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      out,
      backend: 'exact',
      modules: [{ name: MODULE, shape: [g.in, g.out], tau: expect.closeTo(g.tau, 12), kept: g.kept }],
    });
    const delta = parseSafetensors(readFileSync(out)).tensors.get(`${MODULE}.delta`);
    expect(delta?.shape).toEqual([g.in, g.out]);
    expect(delta?.dtype).toBe('F32');
    expect(relError(delta?.data ?? [], flat(g.sparseDeltaW))).toBeLessThan(1e-6);
  });

  it('computes with tfjs on wasm when asked', async () => {
    const [name, g] = goldens.find(([, v]) => v.sparsity > 0) ?? goldens[0];
    const adapter = writeGoldenAdapter(dir, `${name}-wasm`, g);
    const out = join(dir, `${name}.wasm.safetensors`);
    const res = await fedsnell('delta', adapter, '--out', out, '--backend', 'wasm', '--json');
    expect(JSON.parse(res.stdout)).toMatchObject({ backend: 'wasm', modules: [{ kept: g.kept }] });
    const delta = parseSafetensors(readFileSync(out)).tensors.get(`${MODULE}.delta`);
    expect(relError(delta?.data ?? [], flat(g.sparseDeltaW))).toBeLessThan(1e-4);
  });

  it('fails in one line on a missing file', async () => {
    const res = await fedsnell('delta', join(dir, 'missing.safetensors'), '--out', join(dir, 'x.safetensors'));
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(`fedsnell delta: no such file '${join(dir, 'missing.safetensors')}'`);
  });

  it('fails in one line on a corrupt file', async () => {
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, 'not a safetensors file at all');
    const res = await fedsnell('delta', path, '--out', join(dir, 'x.safetensors'));
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('is not a valid adapter: decodeAdapter(): not a safetensors file');
  });

  it('fails in one line on a safetensors file that is not an adapter', async () => {
    const path = join(dir, 'plain.safetensors');
    writeFileSync(path, serializeSafetensors(new Map([['w', { shape: [1], data: new Float32Array([1]) }]])));
    const res = await fedsnell('delta', path, '--out', join(dir, 'x.safetensors'));
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      `fedsnell delta: '${path}' is not a valid adapter: decodeAdapter(): __metadata__ has no 'fedsnell' entry: not a fedsnell adapter`,
    );
  });
});
