import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE, ownErrorLines, runCli } from './testing/run-cli';

describe('fedsnell coordinator input errors', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-coordinator-input-'));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  const start = (backbone: string, evalData: string) =>
    runCli(['coordinator', '--backbone', backbone, '--eval-data', evalData, '--state', join(dir, 'state'), '--port', '0', '--client-token', 'c', '--admin-token', 'a']);

  it('names --eval-data when the evaluation folder is missing', async () => {
    const missing = join(dir, 'no-eval');
    const lines = ownErrorLines((await start(FIXTURE, missing)).stderr);
    expect(lines).toEqual([expect.stringContaining(`--eval-data: nothing is at ${missing}; it must be an ImageFolder`)]);
  });

  it('says what to do with a Hugging Face transformers checkpoint', async () => {
    const hf = join(dir, 'hf');
    await cp(FIXTURE, hf, { recursive: true });
    await writeFile(join(hf, 'config.json'), JSON.stringify({ model_type: 'vit', architectures: ['ViTForImageClassification'] }));
    const result = await start(hf, join(dir, 'no-eval'));
    const lines = ownErrorLines(result.stderr);
    expect([result.code, lines]).toEqual([1, [expect.stringMatching(/--backbone \S+ is a Hugging Face transformers checkpoint .*timm's layout/)]]);
  });
});
