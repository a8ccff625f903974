import { createHash } from "node:crypto";
import { constants, createWriteStream, existsSync } from "node:fs";
import { copyFile, type FileHandle } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { openRegularFile } from "./regular-file.js";

const CHUNK = 1 << 20;

/**
 * A read buffer of the file's size, up to CHUNK: a stream allocates its whole highWaterMark per
 * read, and 1 MiB for each of 60,000 small files made the collector the cost of a check.
 */
async function chunkFor(handle: FileHandle): Promise<number> {
  const { size } = await handle.stat();
  return Math.min(CHUNK, Math.max(size, 1));
}

/**
 * Copies a regular file and returns the sha256 and size of the bytes that went through: one read,
 * one write. The source is opened as openRegularFile does (no symlink, no FIFO); the copy is
 * created with `mode`.
 */
export async function copyWithHash(source: string, destination: string, mode: number, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const handle = await openRegularFile(source);
  try {
    return await copyOpenFileWithHash(handle, destination, mode, signal);
  } finally {
    await handle.close();
  }
}

/** copyWithHash from a file already open (and checked); the handle stays open. */
export async function copyOpenFileWithHash(
  handle: FileHandle,
  destination: string,
  mode: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const chunk = await chunkFor(handle);
  await pipeline(
    handle.createReadStream({ highWaterMark: chunk, autoClose: false, start: 0 }),
    new Transform({
      highWaterMark: chunk,
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    createWriteStream(destination, { mode, flags: "wx", highWaterMark: chunk }),
    signal ? { signal } : {},
  );
  return { sha256: hash.digest("hex"), size };
}

/** Linux names every open file of the process under /proc/self/fd: a path to that file, whatever is at its old path now. */
const OPEN_FILE_PATHS = process.platform === "linux" && existsSync("/proc/self/fd");

/**
 * Copies the file open as `handle` to a new file `destination` (created exclusively) without
 * reading it into this process: copy_file_range in the kernel (fs.copyFile of /proc/self/fd/N,
 * so what is copied is the open file, never what a path names meanwhile). Where /proc is not
 * there, a plain read and write of the handle.
 */
export async function copyOpenFile(handle: FileHandle, destination: string, mode: number, signal?: AbortSignal): Promise<void> {
  if (OPEN_FILE_PATHS) {
    await copyFile(`/proc/self/fd/${handle.fd}`, destination, constants.COPYFILE_EXCL);
    return;
  }
  await pipeline(
    handle.createReadStream({ highWaterMark: CHUNK, autoClose: false, start: 0 }),
    createWriteStream(destination, { mode, flags: "wx", highWaterMark: CHUNK }),
    signal ? { signal } : {},
  );
}

/** The sha256 and size of a regular file (opened as openRegularFile does). */
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const handle = await openRegularFile(file);
  for await (const chunk of handle.createReadStream({ highWaterMark: await chunkFor(handle) })) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}
