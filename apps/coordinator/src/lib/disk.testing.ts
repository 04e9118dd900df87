import { nodeStateWriter, type StateWriter } from './state-files';

/** An errno-style error as Node's fs raises it. */
export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code });
}

/**
 * The real state writer, except that writes to paths `failWhen` selects throw `failure` (ENOSPC,
 * EACCES, EROFS…) while it is set, and appends wait for `hold` while it is set.
 */
export class FlakyDisk implements StateWriter {
  failure: string | null = null;
  failWhen: (path: string) => boolean = () => true;
  hold: Promise<void> | null = null;

  private check(path: string): void {
    if (this.failure && this.failWhen(path)) throw errnoError(this.failure);
  }

  async writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
    this.check(path);
    await nodeStateWriter.writeAtomic(path, bytes);
  }

  async append(path: string, bytes: Uint8Array): Promise<void> {
    if (this.hold) await this.hold;
    this.check(path);
    await nodeStateWriter.append(path, bytes);
  }

  async remove(path: string): Promise<void> {
    await nodeStateWriter.remove(path);
  }
}
