import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { faultPoint } from './fault';
import type { Logger } from './options';
import { errorMessage } from '@fedsnell/util';

/**
 * Every write the coordinator makes to its state folder goes through one of these, so a test can
 * inject a failing disk (ENOSPC, EACCES, EROFS) without filling one.
 */
export interface StateWriter {
  /**
   * Readers see the old file or the whole new one: temp file in the same folder, fsync, rename,
   * fsync of the folder. `fault` names the crash-test points around the rename.
   */
  writeAtomic(path: string, bytes: Uint8Array, fault?: 'checkpoint' | 'history'): Promise<void>;
  /** Appends `bytes` and fsyncs before resolving. */
  append(path: string, bytes: Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
}

/** Temp files end in `.tmp` and start with a dot; a crash between write and rename leaves one behind. */
export const isTempFile = (name: string) => name.startsWith('.') && name.endsWith('.tmp');

export const nodeStateWriter: StateWriter = {
  async writeAtomic(path, bytes, fault) {
    await writeFileAtomic(path, bytes, fault ? { beforeRename: () => faultPoint(`${fault}-temp`) } : {});
    if (fault) faultPoint(`${fault}-rename`);
  },
  async append(path, bytes) {
    const handle = await open(path, 'a');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async remove(path) {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  },
};

/**
 * Makes the state folder usable before anything else happens: creates it (and `wal/`), removes
 * temp files a crash left behind, and proves that it is writable by writing, syncing and removing a
 * probe file, so a read-only or foreign-owned folder is refused at start, not at the first round.
 * `label` names the folder in the error (`--state` for the CLI).
 */
export async function prepareStateDir(dir: string, label: string, logger: Logger): Promise<void> {
  const fail = (error: unknown): never => {
    const reason = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
    throw new Error(
      `${label} ${dir} is not a writable folder (${reason}): give the coordinator's user write access to it (a container running as 'node': chown node ${dir}) or pass another ${label}`,
    );
  };
  await mkdir(join(dir, 'wal'), { recursive: true }).catch(fail);
  const probe = join(dir, `.write-probe.${process.pid}.tmp`);
  await nodeStateWriter.append(probe, new Uint8Array([1])).catch(fail);
  await unlink(probe).catch(fail);
  let removed = 0;
  for (const folder of [dir, join(dir, 'wal')]) {
    for (const name of await readdir(folder).catch(fail)) {
      if (!isTempFile(name)) continue;
      await unlink(join(folder, name)).catch(fail);
      removed++;
    }
  }
  if (removed > 0) logger.info('removed temp files of an interrupted write', { stateDir: dir, files: removed });
}
