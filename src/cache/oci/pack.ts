import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError } from "../../errors.js";
import type { Manifest } from "../manifest.js";
import { type GzipLevel, gzipMembers, levelForFile, type Segment } from "./compression.js";
import type { LayerPlan } from "./format.js";
import { TAR_END, tarHeader, tarPadding } from "./tar.js";

const READ_BYTES = 1024 * 1024;

export interface PackedLayer {
  /** The compressed layer, gzip member by member. */
  chunks: AsyncIterable<Buffer>;
  /** After `chunks` is consumed: sha256 and size of the uncompressed tar (the image's diff_id). */
  tar(): { diffId: string; bytes: number };
}

/**
 * One layer of an entry as compressed tar, streamed from the local entry in one pass: each file is
 * read once, its sha256 checked against the manifest on the way (a local file that changed since
 * it was cached is not pushed: CacheIntegrityError), the tar bytes hashed for the diff_id and
 * compressed. Only what the manifest lists is read, and never through a symlink.
 */
export function packLayer(plan: LayerPlan, entryDir: string, manifestBytes: Buffer, signal?: AbortSignal): PackedLayer {
  const tarHash = createHash("sha256");
  let tarBytes = 0;
  let done = false;
  async function* segments(): AsyncGenerator<Segment> {
    for await (const segment of tarSegments(plan, entryDir, manifestBytes, signal)) {
      tarHash.update(segment.data);
      tarBytes += segment.data.length;
      yield segment;
    }
    done = true;
  }
  return {
    chunks: gzipMembers(segments()),
    tar() {
      if (!done) throw new Error("the layer was not read to its end");
      return { diffId: `sha256:${tarHash.digest("hex")}`, bytes: tarBytes };
    },
  };
}

async function* tarSegments(plan: LayerPlan, entryDir: string, manifestBytes: Buffer, signal?: AbortSignal): AsyncGenerator<Segment> {
  const meta = (data: Buffer): Segment => ({ data, level: 1 });
  if (plan.manifest) {
    yield meta(tarHeader({ type: "file", path: "manifest.json", mode: 0o644, size: manifestBytes.length }));
    yield meta(Buffer.concat([manifestBytes, tarPadding(manifestBytes.length)]));
    yield meta(tarHeader({ type: "dir", path: "files", mode: 0o755 }));
    for (const dir of plan.dirs) yield meta(tarHeader({ type: "dir", path: `files/${dir.path}`, mode: dir.mode & 0o777 }));
  }
  for (const file of plan.files) {
    signal?.throwIfAborted();
    yield meta(tarHeader({ type: "file", path: `files/${file.path}`, mode: file.mode & 0o777, size: file.size }));
    yield* fileSegments(path.join(entryDir, "files", file.path), file, signal);
    yield meta(tarPadding(file.size));
  }
  for (const link of plan.symlinks) yield meta(tarHeader({ type: "symlink", path: `files/${link.path}`, target: link.target }));
  yield meta(TAR_END);
}

async function* fileSegments(source: string, file: Manifest["files"][number], signal?: AbortSignal): AsyncGenerator<Segment> {
  const handle = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ELOOP") throw new CacheIntegrityError(`${file.path} is missing or not a regular file in the local entry`);
    throw error;
  });
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size !== file.size) throw new CacheIntegrityError(`${file.path} in the local entry is not the file its manifest lists`);
    const level: GzipLevel = await levelForFile(handle, file.size);
    const hash = createHash("sha256");
    let position = 0;
    while (position < file.size) {
      signal?.throwIfAborted();
      const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, file.size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      hash.update(data);
      yield { data, level };
    }
    if (position !== file.size || hash.digest("hex") !== file.sha256) {
      throw new CacheIntegrityError(`${file.path} in the local entry does not match its sha256; the entry was not pushed`);
    }
  } finally {
    await handle.close();
  }
}
