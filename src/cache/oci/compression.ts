import type { FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";

/**
 * How entry layers are compressed, chosen by measurement (BENCHMARKS.md, "Compression"): gzip
 * level 1 for bytes that compress, level 0 (stored, still gzip) for bytes that do not. On a
 * realistic backend (shared libraries plus some text) level 1 runs at about 120 MB/s per core
 * and shrinks the data to 0.28 of its size; level 6 shrinks it only to 0.25 at 40 MB/s. On
 * incompressible bytes (compressed fatbins, wheels, weights) level 1 crawls at 33 MB/s for
 * nothing, while level 0 passes 420 MB/s. So each file is sampled, and its bytes go at level 1
 * or 0.
 *
 * A layer is a series of gzip members (RFC 1952 allows concatenated members; Go's, Docker's and
 * Node's gunzip read them as one stream), each compressed on its own from about 1 MiB of tar
 * bytes: several of them are compressed at once on libuv's thread pool, so one large file uses
 * every core, and each member gets the level of the file its bytes belong to.
 */

export type GzipLevel = 0 | 1;

const SAMPLE_BYTES = 64 * 1024;
/** Files smaller than this are not sampled: level 1, whatever they hold (they are a small share). */
const SAMPLE_FROM = 1024 * 1024;
/** Compressed to more than this share of their size at level 1, the samples count as incompressible. */
const INCOMPRESSIBLE_RATIO = 0.9;

const deflateRaw = promisify(zlib.deflateRaw) as (data: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;
const gzip = promisify(zlib.gzip) as (data: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

/** The level for a file: three 64 KiB samples (at 1/4, 1/2 and 3/4 of it) compressed at level 1. */
export async function levelForFile(handle: FileHandle, size: number): Promise<GzipLevel> {
  if (size < SAMPLE_FROM) return 1;
  const samples = await Promise.all(
    [0.25, 0.5, 0.75].map(async (at) => {
      const buffer = Buffer.alloc(SAMPLE_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, Math.floor(size * at));
      return buffer.subarray(0, bytesRead);
    }),
  );
  const input = samples.reduce((sum, s) => sum + s.length, 0);
  const output = (await Promise.all(samples.map((s) => deflateRaw(s, { level: 1 })))).reduce((sum, s) => sum + s.length, 0);
  return output > input * INCOMPRESSIBLE_RATIO ? 0 : 1;
}

export interface Segment {
  data: Buffer;
  level: GzipLevel;
}

export interface GzipOptions {
  /** Tar bytes per gzip member. */
  memberBytes?: number;
  /** Members being compressed at once (on the thread pool). */
  inFlight?: number;
}

/** Segments of tar bytes in, gzip members out, in order. */
export async function* gzipMembers(segments: AsyncIterable<Segment>, options: GzipOptions = {}): AsyncGenerator<Buffer> {
  const memberBytes = options.memberBytes ?? 1024 * 1024;
  const inFlight = options.inFlight ?? 3;
  const queue: Array<Promise<Buffer>> = [];
  let parts: Buffer[] = [];
  let size = 0;
  let level: GzipLevel = 1;
  const flush = () => {
    if (!size) return;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const compressed = gzip(data, { level });
    // Failures surface when the member is awaited, in order; none is left unobserved meanwhile.
    compressed.catch(() => undefined);
    queue.push(compressed);
    parts = [];
    size = 0;
  };
  try {
    for await (const segment of segments) {
      if (segment.level !== level && size) flush();
      level = segment.level;
      let data = segment.data;
      while (data.length) {
        const take = Math.min(memberBytes - size, data.length);
        parts.push(data.subarray(0, take));
        size += take;
        data = data.subarray(take);
        if (size >= memberBytes) flush();
        while (queue.length >= inFlight) yield await queue.shift()!;
      }
    }
    flush();
    while (queue.length) yield await queue.shift()!;
  } finally {
    queue.length = 0;
  }
}
