import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of the `fedsnell` package.json above this module: the repository root when the CLI runs
 * from its TypeScript sources, the installed package when it runs from the bundle in `dist/`. Files
 * the CLI ships (the default backbone, sample tasks, the launcher) are found from here.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'fedsnell') return dir;
    if (dirname(dir) === dir) throw new Error(`no fedsnell package.json above ${from}`);
  }
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof version === 'string' ? version : '0.0.0';
}
