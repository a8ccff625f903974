import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { openRegularFile } from "./regular-file.js";

const CHUNK = 1 << 20;

/**
 * Copies a regular file and returns the sha256 and size of the bytes that went through: one read,
 * one write. The source is opened as openRegularFile does (no symlink, no FIFO); the copy is
 * created with `mode`.
 */
export async function copyWithHash(source: string, destination: string, mode: number, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const handle = await openRegularFile(source);
  await pipeline(
    handle.createReadStream({ highWaterMark: CHUNK }),
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

/** The sha256 and size of a regular file (opened as openRegularFile does). */
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
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
