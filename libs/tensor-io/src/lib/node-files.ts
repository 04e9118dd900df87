import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SafetensorsError } from './errors';
import { ParsedSafetensors, parseSafetensors } from './parse-safetensors';

// No instanceof Error: Node's errors come from another realm under jest and in vm contexts.
function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/** Reads and parses a .safetensors file; format errors name the file. */
export async function readSafetensorsFile(path: string): Promise<ParsedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new Error(`readSafetensorsFile(): no such file '${path}'`, { cause: error });
    throw error;
  }
  try {
    return parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new SafetensorsError(`readSafetensorsFile('${path}')`, error.detail);
    throw error;
  }
}

/** Points inside an atomic write where a caller may act (a crash test kills the process there). */
export interface AtomicWriteHooks {
  /** after the temp file is written and synced, before it replaces `path` */
  beforeRename?: () => void;
}

/**
 * Writes `bytes` so that readers see either the old file or the whole new one, never a torn one:
 * temp file in the same folder (same filesystem, so rename is atomic), fsync, rename, fsync folder.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    hooks.beforeRename?.();
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // Persist the rename itself; some platforms cannot open or fsync a folder, which is not fatal.
  const folderHandle = await open(folder, 'r').catch(() => undefined);
  if (folderHandle) {
    await folderHandle.sync().catch(() => undefined);
    await folderHandle.close();
  }
}

/** Lower-case hex SHA-256 of a file, streamed (backbones are larger than a buffer should be). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', (error) =>
        reject(isErrno(error, 'ENOENT') ? new Error(`sha256File(): no such file '${path}'`, { cause: error }) : error),
      )
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
