import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/**
 * Opens a file of a cache entry for reading only if it is a regular file: never through a
 * symlink (O_NOFOLLOW), and without blocking on a FIFO (O_NONBLOCK), so a crafted entry can
 * neither redirect a read to a file of the host nor hang it. Checked on the open handle, so the
 * answer holds for what is read, whatever is swapped in at that path meanwhile.
 */
export async function openRegularFile(file: string): Promise<FileHandle> {
  const handle = await open(file, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotARegularFileError(file);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * openRegularFile without the thread pool, for the many small files of an entry: the open
 * descriptor and the size it had. The caller closes the descriptor.
 */
export function openRegularFileSync(file: string): { fd: number; size: number } {
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new NotARegularFileError(file);
    return { fd, size: info.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What openRegularFile found at a path instead of a regular file (ELOOP from O_NOFOLLOW counts too). */
export class NotARegularFileError extends Error {
  constructor(readonly file: string) {
    super(`${file} is not a regular file`);
  }
}

export function isNotRegularFile(error: unknown): boolean {
  return error instanceof NotARegularFileError || (error as NodeJS.ErrnoException)?.code === "ELOOP";
}
