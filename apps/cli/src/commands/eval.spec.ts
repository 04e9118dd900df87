import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeImageFolder } from '@fedsnell/data/node';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const FIXTURE_DIR = process.env['FEDSNELL_FIXTURE_DIR'] as string;

async function fedsnell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/fedsnell.cjs'), ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('fedsnell eval speaks in flags', () => {
  let work: string;
  let data: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'fedsnell-eval-cli-'));
    data = join(work, 'data');
    // the fixture's head has 5 classes; only the first holds images
    const image = { width: 16, height: 16, channels: 3 as const, data: new Uint8Array(768).fill(90) };
    await writeImageFolder(data, ['a', 'b', 'c', 'd', 'e'], [{ label: 0, image }, { label: 0, image }]);
    for (const c of ['b', 'c', 'd', 'e']) mkdirSync(join(data, c), { recursive: true });
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const evalArgs = (...extra: string[]) => ['eval', '--backbone', FIXTURE_DIR, '--backend', 'cpu', ...extra];

  it('names --data for a folder that does not exist', async () => {
    const { code, stderr } = await fedsnell(...evalArgs('--data', join(work, 'nope')));
    expect([code, stderr]).toEqual([1, `fedsnell eval: --data: nothing is at ${join(work, 'nope')}; it must be an ImageFolder (one sub-folder of .png/.jpg/.jpeg images per class)\n`]);
  });

  it('suggests --allow-empty-classes for empty class folders, and takes it', async () => {
    const refused = await fedsnell(...evalArgs('--data', data));
    expect([refused.code, refused.stderr]).toEqual([1, `fedsnell eval: --data: classes b, c, d, e of ${data} hold no .png/.jpg/.jpeg image; pass --allow-empty-classes to keep empty classes (their labels stay reserved)\n`]);
    const kept = await fedsnell(...evalArgs('--data', data, '--allow-empty-classes', '--json'));
    expect([kept.code, (JSON.parse(kept.stdout) as { count: number }).count]).toEqual([0, 2]);
  });

  it('says what to do with a Hugging Face transformers checkpoint', async () => {
    const hf = join(work, 'hf');
    cpSync(FIXTURE_DIR, hf, { recursive: true });
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'vit', architectures: ['ViTForImageClassification'], hidden_size: 192 }));
    const { code, stderr } = await fedsnell('eval', '--backbone', hf, '--data', data);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^fedsnell eval: --backbone \S+ is a Hugging Face transformers checkpoint \(model_type 'vit', architectures ViTForImageClassification\), but fedsnell reads timm's layout: .*timm\.models\.save_for_hf\(.*\n$/);
  });

  it('prints errors as JSON with --json, on stdout', async () => {
    const { code, stdout, stderr } = await fedsnell(...evalArgs('--data', join(work, 'nope'), '--json'));
    expect([code, stderr, JSON.parse(stdout)]).toEqual([1, '', { error: { code: 'DATA', message: expect.stringContaining('--data: nothing is at') } }]);
  });

  it("prints commander's own errors as JSON with --json", async () => {
    const { code, stdout, stderr } = await fedsnell('eval', '--data', data, '--json');
    expect([code, stderr, JSON.parse(stdout)]).toEqual([1, '', { error: { code: 'USAGE', message: "required option '--backbone <dir>' not specified" } }]);
  });

  it('prints a bad flag value as JSON with --json', async () => {
    const { code, stdout } = await fedsnell(...evalArgs('--data', data, '--batch', '0', '--json'));
    expect([code, JSON.parse(stdout)]).toEqual([1, { error: { code: 'USAGE', message: "--batch must be an integer in [1, 4096] but got '0'" } }]);
  });
});
