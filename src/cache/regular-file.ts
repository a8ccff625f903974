import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/**
 * Opens a file of a cache entry for reading only if it is a regular file: never through a
 * symlink (O_NOFOLLOW), and without blocking on a FIFO (O_NONBLOCK), so a crafted entry can
 * neither redirect a read to a file of the host nor hang it. Checked on the open handle, so the
 * answer holds for what is read, whatever is swapped in at that path meanwhile.
 */
export async function openRegularFile(file: string): Promise<FileHandle> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotARegularFileError(file);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** What openRegularFile found at a path instead of a regular file (ELOOP from O_NOFOLLOW counts too). */
export class NotARegularFileError extends Error {
  constructor(readonly file: string) {
    super(`${file} is not a regular file`);
  }
}

export function isNotRegularFile(error: unknown): boolean {
  return error instanceof NotARegularFileError || (error as NodeJS.ErrnoException)?.code === "ELOOP";
}
