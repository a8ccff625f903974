import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { chmod, lstat, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError, errorMessage } from "../errors.js";
import { committedManifest, touchEntry } from "./commit.js";
import { fileStamp, type VerifiedFiles } from "./file-stamp.js";
import { copyOpenFile, copyOpenFileWithHash, readSmallFile } from "./hash-copy.js";
import { sha256 } from "./key.js";
import type { CacheLayout } from "./layout.js";
import type { Manifest } from "./manifest.js";
import { runLimited } from "../util/limited.js";
import { eventLoopPacer } from "../util/pace.js";
import { isNotRegularFile, openRegularFile } from "./regular-file.js";
import { entryFilesProblem, manifestProblem, type CacheComponent } from "./validate.js";

/** The entry was there when the run planned, and is gone now (a `cache prune` or `clear` meanwhile). */
export class EntryGoneError extends Error {}

export interface RestoreResult {
  files: number;
  bytes: number;
  ms: number;
  manifest: Manifest;
}

export interface RestoreOptions {
  /** The component whose key this is: an entry of another component is refused. */
  component?: CacheComponent;
  signal?: AbortSignal | undefined;
  /**
   * Files of this entry whose sha256 this run checked when it fetched them, with their stamps
   * then: a file of 1 MiB or more whose open handle still has that stamp is copied without
   * hashing it again. Any other file (an entry that sat in the cache, which may be shared; a small
   * file, read whole anyway) is hashed while it is copied.
   */
  verified?: VerifiedFiles | undefined;
}

/** Files copied at once: the kernel's copies and the hashing overlap with the next file's open. */
const PARALLEL_COPIES = 4;

/**
 * Restores an entry into the install tree. The entry is checked as one arriving from elsewhere
 * (a cache dir can be shared over NFS): manifest, types, special bits, links; files are copied
 * into a staging dir beside the install tree with their hashes checked on the way (unless this
 * run checked them on fetching and they are unchanged since, `verified`), given only the
 * manifest's permission bits, and moved into place only when all are right. Any problem of the
 * entry is a CacheIntegrityError.
 */
export async function restoreEntry(layout: CacheLayout, key: string, installRoot: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const { signal } = options;
  const started = performance.now();
  const entryDir = layout.entryDir(key);
  const manifest = await committedManifest(layout, key);
  if (!manifest) {
    const exists = await lstat(entryDir).then(
      () => true,
      () => false,
    );
    if (!exists) throw new EntryGoneError(`entry ${key.slice(0, 12)} was removed meanwhile (by a cache prune or clear)`);
    throw new CacheIntegrityError(`entry ${key.slice(0, 12)} has no readable manifest`);
  }
  const bad = (problem: string) => new CacheIntegrityError(`entry ${key.slice(0, 12)} of ${manifest.component.name}: ${problem}`);
  const problem = manifestProblem(manifest, { key, component: options.component }) ?? (await entryFilesProblem(entryDir, manifest, { hashes: false, signal }));
  if (problem) throw bad(problem);
  const entryFiles = path.join(entryDir, "files");
  const staging = path.join(path.dirname(installRoot), `.restore-${manifest.component.name}-${randomBytes(4).toString("hex")}`);
  // Made before the try: a work dir this user may not write is this machine's problem, not the entry's.
  await mkdir(staging, { recursive: true });
  let cleanupFailure: { error: unknown } | undefined;
  try {
    // Synchronous calls, paced, for the many small things (a promise each was most of the cost);
    // files of CHUNK bytes and more are streamed, several at once.
    const pace = eventLoopPacer();
    for (const dir of manifest.dirs) {
      await pace();
      mkdirSync(path.join(staging, dir.path), { recursive: true });
    }
    for (const dir of new Set(manifest.files.map((file) => path.dirname(path.join(staging, file.path))))) {
      await pace();
      mkdirSync(dir, { recursive: true });
    }
    // A missing or swapped source file is the entry's fault; a failing write (disk full) is not.
    const sourceProblem = (file: Manifest["files"][number]) => (error: NodeJS.ErrnoException) => {
      if (isNotRegularFile(error)) throw bad(`${file.path} is not a regular file`);
      if (error.code === "ENOENT") throw bad(`${file.path} is missing`);
      throw error;
    };
    const copyOne = async (file: Manifest["files"][number], signal: AbortSignal) => {
      await pace();
      signal.throwIfAborted();
      const target = path.join(staging, file.path);
      const source = path.join(entryFiles, file.path);
      let small: Buffer | undefined;
      try {
        small = readSmallFile(source);
      } catch (error) {
        sourceProblem(file)(error as NodeJS.ErrnoException);
      }
      if (small) {
        if (small.length !== file.size || sha256(small) !== file.sha256) throw bad(`${file.path} does not match its sha256`);
        writeFileSync(target, small, { mode: file.mode, flag: "wx" });
        chmodSync(target, file.mode);
        return;
      }
      const handle = await openRegularFile(source).catch(sourceProblem(file));
      try {
        const stamp = options.verified?.get(file.path);
        if (stamp !== undefined && fileStamp(await handle.stat({ bigint: true })) === stamp) {
          await copyOpenFile(handle, target, file.mode, signal);
        } else {
          const copied = await copyOpenFileWithHash(handle, target, file.mode, signal);
          if (copied.sha256 !== file.sha256 || copied.size !== file.size) throw bad(`${file.path} does not match its sha256`);
        }
      } finally {
        await handle.close();
      }
      await chmod(target, file.mode);
    };
    // The first failure stops the others, and is thrown once none is still writing into staging.
    await runLimited(
      manifest.files.map((file) => (s: AbortSignal) => copyOne(file, s)),
      { concurrency: PARALLEL_COPIES, signal },
    );
    for (const link of manifest.symlinks) {
      await pace();
      mkdirSync(path.dirname(path.join(staging, link.path)), { recursive: true });
      symlinkSync(link.target, path.join(staging, link.path));
    }
    for (const dir of [...manifest.dirs].reverse()) {
      await pace();
      chmodSync(path.join(staging, dir.path), dir.mode);
    }
    for (const root of manifest.roots) {
      const destination = path.join(installRoot, root);
      await mkdir(path.dirname(destination), { recursive: true });
      await rm(destination, { recursive: true, force: true });
      const staged = await lstat(path.join(staging, root)).then(
        () => true,
        () => false,
      );
      if (staged) await rename(path.join(staging, root), destination);
    }
  } catch (error) {
    throw deniedByEntry(error, [entryDir, staging]) ? bad(`this user may not read or write it as its modes say (${errorMessage(error)})`) : error;
  } finally {
    // Not over the error that got here: that one says what went wrong.
    await rm(staging, { recursive: true, force: true }).catch((error: unknown) => {
      cleanupFailure = { error };
    });
  }
  if (cleanupFailure) throw cleanupFailure.error;
  await touchEntry(layout, key);
  return { files: manifest.files.length, bytes: manifest.totalBytes, ms: performance.now() - started, manifest };
}

/**
 * A permission error (EACCES, EPERM) on paths that are all inside the entry or the staging dir
 * (which this run made, so only the modes the entry asked for can deny it): the entry's fault,
 * which evicts it. Denied anywhere else (the work dir, the install tree), it is this machine's.
 */
function deniedByEntry(error: unknown, dirs: readonly string[]): boolean {
  const { code, path: first, dest } = (error ?? {}) as NodeJS.ErrnoException & { dest?: unknown };
  if (code !== "EACCES" && code !== "EPERM") return false;
  const paths = [first, dest].filter((p): p is string => typeof p === "string");
  return paths.length > 0 && paths.every((p) => dirs.some((dir) => p === dir || p.startsWith(`${dir}/`)));
}
