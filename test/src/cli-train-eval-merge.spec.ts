import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdapter } from '@fedsnell/snell';
import { FIXTURE, ownErrorLines, runCli } from './testing/run-cli';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedsnell-cli-'));
  const exported = await runCli(['data', 'export', '--set', 'mnist', '--out', join(dir, 'mnist'), '--per-class', '4', '--split', '0.25', '--json']);
  expect(exported.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fedsnell train | eval | merge on mnist with the tiny fixture backbone', () => {
  let adapterPath: string;

  beforeAll(async () => {
    adapterPath = join(dir, 'adapter.safetensors');
    const r = await runCli([
      'train', '--backbone', FIXTURE, '--data', join(dir, 'mnist/train'), '--out', adapterPath,
      '--epochs', '2', '--batch', '8', '--rank', '4', '--sparsity', '0.5', '--lr', '0.01', '--backend', 'wasm', '--json',
    ]);
    expect(ownErrorLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('writes a valid adapter with the task classes and backbone hash', async () => {
    const adapter = decodeAdapter(await readFile(adapterPath));
    expect(adapter.modules).toHaveLength(12);
    expect(adapter.config.sparsity).toBe(0.5);
    expect(adapter.tensors.get('head.weight')?.shape).toEqual([10, 32]);
    expect(adapter.extra['classes']).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(adapter.extra['backbone_sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('scores the merged backbone exactly as the backbone with the adapter', async () => {
    const merged = join(dir, 'merged');
    const m = await runCli(['merge', '--backbone', FIXTURE, '--adapter', adapterPath, '--out', merged, '--json']);
    expect(m.code).toBe(0);
    const withAdapter = await runCli(['eval', '--backbone', FIXTURE, '--data', join(dir, 'mnist/test'), '--adapter', adapterPath, '--backend', 'wasm', '--json']);
    const onMerged = await runCli(['eval', '--backbone', merged, '--data', join(dir, 'mnist/test'), '--backend', 'wasm', '--json']);
    const a = JSON.parse(withAdapter.stdout);
    const b = JSON.parse(onMerged.stdout);
    expect(a.count).toBe(10);
    expect(b.count).toBe(10);
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.loss).toBeCloseTo(a.loss, 4);
    expect(b.perClass).toEqual(a.perClass);
  }, 120_000);

  it('trains with two worker threads', async () => {
    const out = join(dir, 'adapter-2w.safetensors');
    const r = await runCli([
      'train', '--backbone', FIXTURE, '--data', join(dir, 'mnist/train'), '--out', out,
      '--epochs', '1', '--batch', '8', '--rank', '4', '--backend', 'wasm', '--workers', '2', '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ workers: 2, modules: 12 }));
    expect(decodeAdapter(await readFile(out)).modules).toHaveLength(12);
  }, 120_000);

  it('trains plain dense LoRA with --kernel linear alone', async () => {
    const out = join(dir, 'lora.safetensors');
    const r = await runCli([
      'train', '--backbone', FIXTURE, '--data', join(dir, 'mnist/train'), '--out', out,
      '--kernel', 'linear', '--max-steps', '1', '--batch', '8', '--rank', '4', '--backend', 'wasm', '--json',
    ]);
    expect(ownErrorLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(decodeAdapter(await readFile(out)).config).toMatchObject({ kernel: 'linear', heads: 1, scale: 1, sparsity: 0 });
  }, 120_000);

  it('prints per-class scores in its JSON', async () => {
    const r = await runCli(['eval', '--backbone', FIXTURE, '--data', join(dir, 'mnist/test'), '--adapter', adapterPath, '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.perClass).toHaveLength(10);
    expect(out.perClass[0]).toEqual(expect.objectContaining({ name: '0', count: 1 }));
  }, 60_000);
});

describe('bad input', () => {
  const expectOneLineError = (r: { code: number | null; stderr: string; stdout: string }, command: string, fragment: string) => {
    expect(r.code).toBe(1);
    const lines = ownErrorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`fedsnell ${command}: `);
    expect(lines[0]).toContain(fragment);
    expect(r.stdout).toBe('');
  };

  it('rejects a missing data folder', async () => {
    const r = await runCli(['eval', '--backbone', FIXTURE, '--data', join(dir, 'nope')]);
    expectOneLineError(r, 'eval', 'nothing is at');
  }, 60_000);

  it('rejects a missing backbone folder', async () => {
    const r = await runCli(['eval', '--backbone', join(dir, 'nobackbone'), '--data', join(dir, 'mnist/test')]);
    expectOneLineError(r, 'eval', 'has no config.json');
  }, 60_000);

  it('rejects corrupt weights', async () => {
    const broken = join(dir, 'broken-weights');
    await cp(FIXTURE, broken, { recursive: true });
    await truncate(join(broken, 'model.safetensors'), 5000);
    const r = await runCli(['eval', '--backbone', broken, '--data', join(dir, 'mnist/test')]);
    expectOneLineError(r, 'eval', 'model.safetensors');
  }, 60_000);

  it('rejects an unknown architecture', async () => {
    const bad = join(dir, 'bad-config');
    await cp(FIXTURE, bad, { recursive: true });
    const config = JSON.parse(await readFile(join(bad, 'config.json'), 'utf8'));
    config.architecture = 'vit_gigantic_patch3_999';
    await writeFile(join(bad, 'config.json'), JSON.stringify(config));
    const r = await runCli(['eval', '--backbone', bad, '--data', join(dir, 'mnist/test')]);
    expectOneLineError(r, 'eval', 'vit_gigantic_patch3_999');
  }, 60_000);

  it('rejects a file that is not an adapter', async () => {
    const garbage = join(dir, 'garbage.safetensors');
    await writeFile(garbage, 'not a safetensors file at all');
    const r = await runCli(['eval', '--backbone', FIXTURE, '--data', join(dir, 'mnist/test'), '--adapter', garbage]);
    expectOneLineError(r, 'eval', 'is not a valid fedsnell adapter');
  }, 60_000);

  it('rejects a head whose class count differs from the data', async () => {
    // the fixture's own head has 5 classes, mnist has 10
    const r = await runCli(['eval', '--backbone', FIXTURE, '--data', join(dir, 'mnist/test')]);
    expectOneLineError(r, 'eval', 'predicts 5 classes');
  }, 60_000);

  it('rejects sparsity 1', async () => {
    const r = await runCli(['train', '--backbone', FIXTURE, '--data', join(dir, 'mnist/train'), '--out', join(dir, 'x.safetensors'), '--sparsity', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--sparsity must be a number in [0, 0.999999]');
  }, 60_000);

  it('rejects a coefficient scale for the linear kernel', async () => {
    const r = await runCli(['train', '--backbone', FIXTURE, '--data', join(dir, 'mnist/train'), '--out', join(dir, 'x.safetensors'), '--kernel', 'linear', '--scale', '0.1']);
    expectOneLineError(r, 'train', "scale passed to resolveSnellConfig() must be 1 for the 'linear' kernel (it has no coefficient) but got 0.1");
  }, 60_000);

  it('refuses to merge onto the source backbone', async () => {
    const r = await runCli(['merge', '--backbone', FIXTURE, '--adapter', join(dir, 'adapter.safetensors'), '--out', FIXTURE]);
    expectOneLineError(r, 'merge', '--out must differ from --backbone');
  }, 60_000);
});
