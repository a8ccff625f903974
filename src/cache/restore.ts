import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, rename, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError } from "../errors.js";
import { committedManifest, touchEntry } from "./commit.js";
import { copyWithHash } from "./hash-copy.js";
import type { CacheLayout } from "./layout.js";
import type { Manifest } from "./manifest.js";
import { isNotRegularFile } from "./regular-file.js";
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
  signal?: AbortSignal;
}

/**
 * Restores an entry into the install tree. The entry is checked as one arriving from elsewhere
 * (a cache dir can be shared over NFS): manifest, types, special bits, links; files are copied
 * into a staging dir beside the install tree with their hashes checked on the way, given only the
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
  try {
    await mkdir(staging, { recursive: true });
    for (const dir of manifest.dirs) await mkdir(path.join(staging, dir.path), { recursive: true });
    for (const file of manifest.files) {
      signal?.throwIfAborted();
      const target = path.join(staging, file.path);
      await mkdir(path.dirname(target), { recursive: true });
      const source = path.join(entryFiles, file.path);
      // A missing or swapped source file is the entry's fault; a failing write (disk full) is not.
      const copied = await copyWithHash(source, target, file.mode, signal).catch((error: NodeJS.ErrnoException) => {
        if (isNotRegularFile(error)) throw bad(`${file.path} is not a regular file`);
        if (error.code === "ENOENT" && error.path === source) return undefined;
        throw error;
      });
      if (!copied || copied.sha256 !== file.sha256 || copied.size !== file.size)
        throw bad(`${file.path} ${copied ? "does not match its sha256" : "is missing"}`);
      await chmod(target, file.mode);
    }
    for (const link of manifest.symlinks) {
      await mkdir(path.dirname(path.join(staging, link.path)), { recursive: true });
      await symlink(link.target, path.join(staging, link.path));
    }
    for (const dir of [...manifest.dirs].reverse()) await chmod(path.join(staging, dir.path), dir.mode);
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
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await touchEntry(layout, key);
  return { files: manifest.files.length, bytes: manifest.totalBytes, ms: performance.now() - started, manifest };
}
