import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

const CHUNK = 1 << 20;

/** Copies a file and returns the sha256 and size of the bytes that went through: one read, one write. */
export async function copyWithHash(source: string, destination: string, mode: number, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(
    createReadStream(source, { highWaterMark: CHUNK }),
    new Transform({
      highWaterMark: CHUNK,
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    createWriteStream(destination, { mode, highWaterMark: CHUNK }),
    signal ? { signal } : {},
  );
  return { sha256: hash.digest("hex"), size };
}

export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK, ...(signal ? { signal } : {}) })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}
