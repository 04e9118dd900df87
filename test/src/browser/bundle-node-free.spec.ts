import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface PageBuild {
  app: string;
  dir: string;
  externalImports: string[];
}
// the page builder is a plain script outside every project; load it by path, as the coordinator does
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildPages } = require(join(__dirname, '../../..', 'tools', 'build-pages.cjs')) as {
  buildPages(names?: string[], outDir?: string): Promise<PageBuild[]>;
};

/**
 * The pages must not carry Node-only code of ours. Third-party glue (tfjs-backend-wasm's emscripten
 * loader) has `require("fs")`-style branches for Node that never run in a page; `node:` specifiers are
 * only ever ours, so any of them in a bundle is a leak.
 */
describe('browser bundles', () => {
  let out: string;
  let builds: PageBuild[];

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fedsnell-pages-'));
    builds = await buildPages(undefined, out);
  }, 180_000);

  afterAll(() => rm(out, { recursive: true, force: true }));

  it('builds both pages', () => {
    expect(builds.map((b) => b.app).sort()).toEqual(['client-web', 'dashboard']);
  });

  it('import no node: module', () => {
    const leaks = builds.flatMap((b) => b.externalImports.filter((i) => i.startsWith('node:')).map((i) => `${b.app}: ${i}`));
    expect(leaks).toEqual([]);
  });

  it('contain no node: specifier in any emitted script', async () => {
    const found: string[] = [];
    for (const b of builds) {
      const dir = join(out, b.app);
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
        const text = await readFile(join(dir, file), 'utf8');
        for (const m of text.matchAll(/["'`]node:[a-z_/]+["'`]/g)) found.push(`${b.app}/${file}: ${m[0]}`);
      }
    }
    expect(found).toEqual([]);
  });
});
