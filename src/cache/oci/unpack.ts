import { createHash, type Hash } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, lstat, mkdir, open, symlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { CacheIntegrityError } from "../../errors.js";
import { type FileStamp, fileStamp, type VerifiedFiles } from "../file-stamp.js";
import type { Manifest } from "../manifest.js";
import { isSafeRelativePath, specialBitsProblem, symlinkInPathProblem } from "../validate.js";
import { type ReadMember, readTar, type TarEvent, TarFormatError } from "./tar.js";

/**
 * Writes what arrives from a registry into a temporary entry directory, in one pass per layer:
 * gunzip, tar, and each file's sha256 checked against the entry's manifest while it is written.
 * Only regular files (permission bits only), directories and symlinks listed in the manifest are
 * created; anything else (a device node, a FIFO, a hard link, setuid bits, a path outside files/,
 * a file the manifest does not list or lists with another size) stops the extraction with a
 * CacheIntegrityError. Nothing is made through a symlink: a member beneath a symlink (one that
 * arrived, in any order, or one the manifest lists) is refused as it arrives, directories are made
 * one level at a time and must be directories (lstat), files are created exclusively with
 * O_NOFOLLOW, and symlinks are made last, when every other member is placed. The temp dir is the
 * caller's to remove on failure and to hand to the cache's adopt on success.
 *
 * Entries of format 1 (no manifest known before the files arrive) are extracted with the same
 * refusals, without the per-file checks: the cache's adopt checks every file of them afterwards.
 */

/** An entry manifest larger than this is refused (one of 100,000 files is about 20 MB). */
const MAX_MANIFEST_BYTES = 64 * 2 ** 20;
const WRITE_BATCH = 1024 * 1024;

/** The decompressed bytes of a gzip layer (a series of gzip members). */
export async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const stream = createGunzip({ chunkSize: 256 * 1024 });
  const feeding = pipeline(Readable.from(source, { objectMode: false }), stream);
  feeding.catch(() => undefined);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    await feeding;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith("Z_")) throw new CacheIntegrityError(`a layer is not valid gzip (${(error as Error).message})`);
    throw error;
  } finally {
    stream.destroy();
  }
}

/** The tar events of a layer, with a malformed archive reported as the entry's fault. */
export async function* layerEvents(compressed: AsyncIterable<Buffer>): AsyncGenerator<TarEvent> {
  try {
    yield* readTar(gunzip(compressed));
  } catch (error) {
    if (error instanceof TarFormatError) throw new CacheIntegrityError(`a layer is not a valid tar archive: ${error.message}`);
    throw error;
  }
}

/**
 * Reads the first member of the first layer, which must be manifest.json, and returns its bytes;
 * the iterator is left at the next member.
 */
export async function readManifestMember(events: AsyncIterator<TarEvent>): Promise<Buffer> {
  const first = await events.next();
  const member = first.done ? undefined : first.value.event === "member" ? first.value.member : undefined;
  if (!member || normalise(member.path) !== "manifest.json" || member.kind !== "file") {
    throw new CacheIntegrityError("the first layer does not start with manifest.json");
  }
  if (member.size > MAX_MANIFEST_BYTES) throw new CacheIntegrityError(`manifest.json is ${member.size} bytes`);
  const parts: Buffer[] = [];
  for (;;) {
    const next = await events.next();
    if (next.done) throw new CacheIntegrityError("the first layer ends inside manifest.json");
    if (next.value.event === "end") return Buffer.concat(parts);
    if (next.value.event === "data") parts.push(next.value.chunk);
  }
}

const NODE_NAMES: Record<ReadMember["kind"], string> = {
  file: "a regular file",
  dir: "a directory",
  symlink: "a symlink",
  hardlink: "a hard link",
  "char-device": "a character device",
  "block-device": "a block device",
  fifo: "a FIFO",
  other: "a special file",
};

type Expected = { kind: "file"; file: Manifest["files"][number] } | { kind: "dir" } | { kind: "symlink"; target: string };

/** One entry being extracted, possibly from several layers at once. */
export class EntryExtraction {
  private readonly expected = new Map<string, Expected>();
  private readonly written = new Set<string>();
  private readonly links: Array<{ path: string; target: string }> = [];
  private readonly linkPaths = new Set<string>();
  /** The directories above every member named so far: none of them may be a symlink. */
  private readonly above = new Set<string>();
  private readonly dirsMade = new Set<string>();
  private readonly stamps = new Map<string, FileStamp>();

  /** `manifest` undefined: an entry of format 1, whose manifest.json arrives among the files. */
  constructor(
    readonly dir: string,
    private readonly manifest: Manifest | undefined,
  ) {
    if (!manifest) return;
    for (const file of manifest.files) this.expected.set(file.path, { kind: "file", file });
    for (const dir of manifest.dirs) this.expected.set(dir.path, { kind: "dir" });
    for (const link of manifest.symlinks) this.expected.set(link.path, { kind: "symlink", target: link.target });
    // Directories above the roots (backends/ of backends/onnxruntime) hold nothing of their own.
    for (const root of manifest.roots) {
      const parts = root.split("/");
      for (let i = 1; i < parts.length; i++)
        if (!this.expected.has(parts.slice(0, i).join("/"))) this.expected.set(parts.slice(0, i).join("/"), { kind: "dir" });
    }
  }

  /** Writes every member of one layer's events; throws at the first thing an entry may not hold. */
  async extract(events: AsyncIterable<TarEvent> | AsyncIterator<TarEvent>, signal?: AbortSignal): Promise<void> {
    const iterable: AsyncIterable<TarEvent> = Symbol.asyncIterator in events ? events : { [Symbol.asyncIterator]: () => events };
    let file: FileWrite | undefined;
    try {
      for await (const event of iterable) {
        if (event.event === "member") {
          signal?.throwIfAborted();
          file = await this.begin(event.member);
        } else if (event.event === "data") {
          if (file) await file.write(event.chunk);
        } else if (file) {
          const checked = await file.finish();
          if (checked) this.stamps.set(checked.path, checked.stamp);
          file = undefined;
        }
      }
    } finally {
      await file?.abandon();
    }
  }

  /**
   * The files whose sha256 was checked against the manifest as they were written (all of an entry
   * of format 2, none of format 1), each with its stamp once written: adopt and restore need not
   * read them again while the stamp holds.
   */
  get verified(): VerifiedFiles {
    return this.stamps;
  }

  /** After every layer: each listed file arrived, and the symlinks are made. */
  async finish(): Promise<void> {
    // Checked as each member arrived; once more over all of them before any link is made.
    for (const link of this.links) if (this.above.has(link.path)) throw new CacheIntegrityError(symlinkInPathProblem(link.path));
    for (const dir of this.manifest?.dirs ?? []) this.place(dir.path, "dir");
    if (this.manifest) {
      const missing = this.manifest.files.find((f) => !this.written.has(f.path));
      if (missing) throw new CacheIntegrityError(`${missing.path} is in the manifest but not in any layer`);
      for (const dir of this.manifest.dirs) await this.makeDir(dir.path);
    }
    for (const link of this.links) {
      await this.makeDir(path.posix.dirname(link.path));
      await symlink(link.target, path.join(this.dir, "files", link.path)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EEXIST") throw new CacheIntegrityError(`${link.path} is both a symlink and something else`);
        throw error;
      });
    }
  }

  private async begin(member: ReadMember): Promise<FileWrite | undefined> {
    const name = normalise(member.path);
    if (name === "manifest.json" && !this.manifest && member.kind === "file") {
      if (this.written.has(name) || member.size > MAX_MANIFEST_BYTES) throw new CacheIntegrityError("manifest.json is there twice, or too large");
      this.written.add(name);
      return FileWrite.create(path.join(this.dir, name), 0o644, undefined);
    }
    if (name === "files") {
      if (member.kind === "dir") return undefined;
      throw new CacheIntegrityError(`files is ${NODE_NAMES[member.kind]}, not a directory`);
    }
    if (name === "manifest.json") throw new CacheIntegrityError(`manifest.json is ${NODE_NAMES[member.kind]} in a layer, or there twice`);
    const relative = name.startsWith("files/") ? name.slice("files/".length) : undefined;
    if (relative === undefined || !isSafeRelativePath(relative)) throw new CacheIntegrityError(`a layer holds '${member.path}', outside files/`);
    if (member.kind !== "file" && member.kind !== "dir" && member.kind !== "symlink") {
      // The same words as the check of an entry on disk (validate.ts), whichever finds it.
      throw new CacheIntegrityError(
        `${relative} is ${NODE_NAMES[member.kind]} (tar type '${member.typeflag}'): an entry holds only regular files, directories and symlinks`,
      );
    }
    if (member.kind !== "symlink" && member.mode & 0o7000) throw new CacheIntegrityError(specialBitsProblem(relative, member.mode));
    const expected = this.expected.get(relative);
    if (this.manifest) {
      if (!expected) throw new CacheIntegrityError(`${relative} is not in the entry's manifest`);
      if (expected.kind !== member.kind) throw new CacheIntegrityError(`${relative} is a ${member.kind}, the manifest says ${expected.kind}`);
    }
    this.place(relative, member.kind);
    if (member.kind === "dir") {
      await this.makeDir(relative);
      return undefined;
    }
    if (member.kind === "symlink") {
      if (expected?.kind === "symlink" && expected.target !== member.linkname)
        throw new CacheIntegrityError(`${relative} points to another target than its manifest says`);
      if (this.linkPaths.has(relative)) throw new CacheIntegrityError(`${relative} is in the layers twice`);
      this.links.push({ path: relative, target: member.linkname });
      this.linkPaths.add(relative);
      return undefined;
    }
    if (this.written.has(relative)) throw new CacheIntegrityError(`${relative} is in the layers twice`);
    this.written.add(relative);
    const listed = expected?.kind === "file" ? expected.file : undefined;
    if (listed && listed.size !== member.size) throw new CacheIntegrityError(`${relative} is ${member.size} bytes, the manifest says ${listed.size}`);
    await this.makeDir(path.posix.dirname(relative));
    return FileWrite.create(path.join(this.dir, "files", relative), (listed?.mode ?? member.mode) & 0o777, listed);
  }

  /**
   * Notes `relative` (and the dirs above it) as placed, refusing it when a symlink (one that
   * arrived, or one the manifest lists) is above it, or when it is a symlink above something placed.
   */
  private place(relative: string, kind: ReadMember["kind"]): void {
    const parts = relative.split("/");
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join("/");
      if (this.expected.get(above)?.kind === "symlink" || this.linkPaths.has(above)) throw new CacheIntegrityError(symlinkInPathProblem(above));
    }
    if (kind === "symlink" && this.above.has(relative)) throw new CacheIntegrityError(symlinkInPathProblem(relative));
    for (let i = 1; i < parts.length; i++) this.above.add(parts.slice(0, i).join("/"));
  }

  /** Makes a directory under files/ one level at a time, never through a symlink or over a file. */
  private async makeDir(relative: string): Promise<void> {
    if (this.dirsMade.has(relative)) return;
    const parts = relative === "." ? [] : relative.split("/");
    for (let i = 0; i <= parts.length; i++) {
      const sub = i === 0 ? "." : parts.slice(0, i).join("/");
      if (this.dirsMade.has(sub)) continue;
      const at = path.join(this.dir, "files", sub);
      await mkdir(at).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOTDIR") throw new CacheIntegrityError(`${sub} is both a directory and a file`);
        if (error.code !== "EEXIST") throw error;
        const info = await lstat(at);
        if (!info.isDirectory()) throw new CacheIntegrityError(`${sub} is both a directory and ${info.isSymbolicLink() ? "a symlink" : "a file"}`);
      });
      this.dirsMade.add(sub);
    }
  }
}

/** One file being written: created exclusively, never through a link, hashed as it is written. */
class FileWrite {
  private readonly hash: Hash = createHash("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private size = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly target: string,
    private readonly mode: number,
    private readonly listed: Manifest["files"][number] | undefined,
  ) {}

  static async create(target: string, mode: number, listed: Manifest["files"][number] | undefined): Promise<FileWrite> {
    const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === "EEXIST" || error.code === "ELOOP" || error.code === "EISDIR") throw new CacheIntegrityError(`${target} is in the layers twice`);
        throw error;
      },
    );
    return new FileWrite(handle, target, mode, listed);
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.writev(parts);
  }

  /** Flushes, checks the sha256 of a listed file, sets the mode; a listed file's stamp afterwards. */
  async finish(): Promise<{ path: string; stamp: FileStamp } | undefined> {
    try {
      await this.flush();
      if (this.listed && (this.size !== this.listed.size || this.hash.digest("hex") !== this.listed.sha256)) {
        throw new CacheIntegrityError(`${this.listed.path} does not match its sha256`);
      }
      await this.handle.chmod(this.mode);
      return this.listed ? { path: this.listed.path, stamp: fileStamp(await this.handle.stat({ bigint: true })) } : undefined;
    } finally {
      await this.handle.close();
    }
  }

  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  toString(): string {
    return this.target;
  }
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}
