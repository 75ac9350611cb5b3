// Writing a file so that a crash or power cut leaves either the old or the new content, never a torn one: the token
// store, the changesOnly baselines and the trigger's fired sets all write through here.
import { promises as fsp } from 'fs';
import * as path from 'path';
import { PointPrefix, reached } from '../node-red/diagnostics';

// Codes with which some platforms refuse to fsync a directory; the write is still done.
const DIR_SYNC_REFUSALS = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EACCES', 'EBADF', 'ENOTSUP']);

export interface AtomicWriteOptions {
  /** Crash points `<name>:after-temp-write` and `<name>:after-rename` for the crash tests; none when undefined. */
  crashPoints?: PointPrefix;
}

/**
 * Temp file `<file>.tmp` (0600), fsync, rename over the file, fsync of the folder: a crash leaves the old or the
 * new file.
 */
export async function writeAtomic(
  file: string,
  data: Buffer | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await fsp.open(temp, 'w', 0o600);
  try {
    // The mode given to open applies only to a new file; a leftover temp file could have another.
    if (process.platform !== 'win32') await handle.chmod(0o600);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  if (options.crashPoints) reached(`${options.crashPoints}:after-temp-write`);
  await renameReplacing(temp, file);
  if (options.crashPoints) reached(`${options.crashPoints}:after-rename`);
  await fsyncDir(path.dirname(file));
}

/** rename, retried briefly on Windows, where a scanner holding the target makes it fail for a moment. */
export async function renameReplacing(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const transient = ['EPERM', 'EACCES', 'EBUSY'].includes(codeOf(err) ?? '');
      if (process.platform !== 'win32' || !transient || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
  }
}

/** fsync of a folder, so a rename in it survives a power cut (best effort where the platform refuses). */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!DIR_SYNC_REFUSALS.has(codeOf(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

function codeOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}
