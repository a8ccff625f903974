import { createHash } from "node:crypto";
import { closeSync, constants, createWriteStream, existsSync, readSync, writeFileSync } from "node:fs";
import { copyFile, type FileHandle } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sha256 } from "./key.js";
import { openRegularFile, openRegularFileSync } from "./regular-file.js";

const CHUNK = 1 << 20;

/**
 * Copies a regular file and returns the sha256 and size of the bytes that went through: one read,
 * one write. The source is opened as openRegularFile does (no symlink, no FIFO); the copy is
 * created with `mode`.
 */
export async function copyWithHash(source: string, destination: string, mode: number, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const small = readSmallFile(source);
  if (small) {
    writeFileSync(destination, small, { mode, flag: "wx" });
    return { sha256: sha256(small), size: small.length };
  }
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
  await pipeline(
    handle.createReadStream({ highWaterMark: CHUNK, autoClose: false, start: 0 }),
    new Transform({
      highWaterMark: CHUNK,
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    createWriteStream(destination, { mode, flags: "wx", highWaterMark: CHUNK }),
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

/**
 * The sha256 and size of a regular file (opened as openRegularFile does). A file of under CHUNK
 * bytes is read with synchronous calls into one buffer: a stream through the thread pool per file
 * cost ten times what `sha256sum` does on an entry of many small files (BENCHMARKS.md row 9b).
 */
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const small = readSmallFile(file);
  if (small) return { sha256: sha256(small), size: small.length };
  const hash = createHash("sha256");
  let size = 0;
  const handle = await openRegularFile(file);
  for await (const chunk of handle.createReadStream({ highWaterMark: CHUNK })) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

/**
 * The whole content of a regular file of under CHUNK bytes (opened as openRegularFile does), or
 * undefined for a larger one. Synchronous: call it from a paced loop (util/pace.ts).
 */
export function readSmallFile(file: string): Buffer | undefined {
  const { fd, size } = openRegularFileSync(file);
  try {
    if (size >= CHUNK) return undefined;
    // One byte more than the size it had: a file that grew meanwhile is not cut short.
    const buffer = Buffer.allocUnsafe(size + 1);
    let read = 0;
    for (;;) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) return buffer.subarray(0, read);
      read += n;
      if (read === buffer.length) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}
