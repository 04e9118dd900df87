import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE, ownErrorLines, runCli } from './testing/run-cli';

describe('fedsnell coordinator --state', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-state-cli-'));
    await writeFile(join(dir, 'not-a-folder'), 'x');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a state folder it cannot write, in one line naming --state, before loading anything', async () => {
    const state = join(dir, 'not-a-folder', 'state');
    const result = await runCli(['coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--state', state, '--port', '0', '--client-token', 'c', '--admin-token', 'a']);
    const lines = ownErrorLines(result.stderr);
    expect([result.code === 0, lines.length, lines[0]]).toEqual([false, 1, expect.stringContaining(`--state ${state} is not a writable folder (ENOTDIR)`)]);
  });
});
