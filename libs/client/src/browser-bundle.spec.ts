import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';

const ROOT = join(__dirname, '../../..');
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Every import in a bundle that names a Node builtin, as `file -> import`. An import that a package's
 * own `browser` field maps to nothing (tfjs's Node platform file, for one) is resolved as
 * `(disabled):…` and never reaches a browser.
 */
function nodeImports(metafile: Metafile): string[] {
  return Object.entries(metafile.inputs).flatMap(([file, input]) =>
    input.imports
      .filter((i) => !i.path.startsWith('(disabled):'))
      .filter((i) => NODE_BUILTINS.has(i.original ?? i.path) || i.path.startsWith('node:'))
      .map((i) => `${file} -> ${i.original ?? i.path}`),
  );
}

async function bundle(entry: string) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    tsconfig: join(ROOT, 'tsconfig.base.json'),
    absWorkingDir: ROOT,
  });
}

describe('the browser bundle of @fedsnell/client', () => {
  it('builds for the browser platform with no Node builtin in it', async () => {
    // esbuild refuses to resolve a Node builtin for the browser, so a failed build lists each one
    const result = await bundle(join(__dirname, 'index.ts')).catch((error: { errors?: { text: string; location?: { file: string } | null }[] }) => {
      throw new Error(`@fedsnell/client does not bundle for browsers:\n${(error.errors ?? []).map((e) => `${e.location?.file ?? '?'}: ${e.text}`).join('\n')}`);
    });
    expect(nodeImports(result.metafile)).toEqual([]);
    expect(Object.keys(result.metafile.inputs).some((f) => f.startsWith('libs/client/src/lib/client.ts'))).toBe(true);
  }, 120_000);

  it('catches a Node import (the check can fail)', async () => {
    const failing = bundle(join(__dirname, 'testing/node-only-entry.ts'));
    await expect(failing).rejects.toThrow(/node:fs/);
  }, 60_000);
});
