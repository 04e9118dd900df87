import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

/** Markdown files tracked by git (a public clone has exactly these). */
function trackedMarkdown(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '*.md'], { cwd: REPO, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '');
}

/** Relative link targets `[text](target)` of a markdown text, without anchors; web links skipped. */
export function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [...withoutCode.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string);
  return targets
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'))
    .map((t) => decodeURIComponent(t.split('#')[0] as string));
}

describe('documentation links', () => {
  it('finds relative links and skips web links and anchors', () => {
    const text = '[a](docs/A.md) [b](https://x.org/y) [c](#here) [d](../e.md#sec) `[no](code.md)`';
    expect(relativeLinks(text)).toEqual(['docs/A.md', '../e.md']);
  });

  it('resolves every relative link of every tracked markdown file inside the repository', () => {
    const broken: string[] = [];
    for (const file of trackedMarkdown()) {
      const text = readFileSync(join(REPO, file), 'utf8');
      for (const link of relativeLinks(text)) {
        const target = resolve(REPO, dirname(file), link);
        if (!target.startsWith(REPO + '/') && target !== REPO) broken.push(`${file}: ${link} (outside the repository)`);
        else if (!existsSync(target)) broken.push(`${file}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names no folder outside the repository in tracked source', () => {
    const r = spawnSync('git', ['grep', '-l', '-e', '\\.\\./shared', '--', ':!*.md', ':!test/src/docs-links.spec.ts'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    // git grep exits 1 when nothing matches, 0 with the list of files that match
    expect({ status: r.status, files: r.stdout.trim() }).toEqual({ status: 1, files: '' });
  });
});
