import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTaskFile } from '@fedsnell/coordinator';
import { runCli } from './testing/run-cli';

const DEPLOY = join(__dirname, '../../deploy');

/** `--flag` words of a command line written in any of the deploy files. */
function flagsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)].map((m) => m[0]))];
}

describe('deploy/', () => {
  let help: string;

  beforeAll(async () => {
    const r = await runCli(['coordinator', '--help']);
    expect(r.code).toBe(0);
    help = r.stdout;
  }, 60_000);

  it('ships sample tasks that the coordinator accepts', async () => {
    const files = (await readdir(join(DEPLOY, 'tasks'))).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const task = parseTaskFile(JSON.parse(await readFile(join(DEPLOY, 'tasks', f), 'utf8')), f);
      expect(task.snell.rank).toBeGreaterThan(0);
    }
  });

  it.each(['Dockerfile', 'compose.yaml', 'fedsnell-coordinator.service'])('%s passes only flags the coordinator has', async (file) => {
    const text = await readFile(join(DEPLOY, file), 'utf8');
    // Dockerfile: the CMD; compose: the command list; systemd: ExecStart
    const commandPart =
      file === 'Dockerfile'
        ? text.slice(text.indexOf('CMD'))
        : file === 'compose.yaml'
          ? text.slice(text.indexOf('command:'), text.indexOf('environment:'))
          : (text.split('\n').find((l) => l.startsWith('ExecStart=')) ?? '');
    const flags = flagsIn(commandPart);
    expect(flags.length).toBeGreaterThanOrEqual(5);
    for (const flag of flags) expect(help).toContain(flag);
  });

  it('names the token variables the coordinator reads', async () => {
    for (const file of ['compose.yaml', 'fedsnell-coordinator.service']) {
      const text = await readFile(join(DEPLOY, file), 'utf8');
      expect(text).toContain('FEDSNELL_CLIENT_TOKENS');
      expect(text).toContain('FEDSNELL_ADMIN_TOKEN');
    }
    expect(help).toContain('FEDSNELL_CLIENT_TOKENS');
    expect(help).toContain('FEDSNELL_ADMIN_TOKEN');
  });

  it('rejects a task file with an unknown key', () => {
    expect(() => parseTaskFile({ trainer: { epochz: 3 } }, 'bad.json')).toThrow('bad.json: trainer');
  });
});
