import { lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pathError } from "../util/fs-errors.js";
import { isProcessAlive, processHostTag } from "../util/process.js";
import { isEntryName, parseTempName, type CacheLayout } from "./layout.js";
import { readManifest, type Manifest } from "./manifest.js";

/**
 * Finding and removing entries: the scan of entries/, evicting (renamed away first, so no reader
 * finds half of one), least-recently-used pruning, the leftovers of writers that died, clear.
 */

export interface EntryInfo {
  manifest: Manifest;
  dir: string;
  lastUsed: Date;
}

/** Something under entries/ that is not an entry: misnamed, or without a readable manifest. */
export interface JunkEntry {
  dir: string;
  /** The key, or the path under entries/ when the name is not one. */
  name: string;
  problem: string;
}

/**
 * Every committed entry, and everything else under entries/. A cache dir that does not exist is
 * an empty cache; one that cannot be read (a file, no permission) is an environment error naming it.
 */
export async function scanEntries(layout: CacheLayout): Promise<{ entries: EntryInfo[]; junk: JunkEntry[] }> {
  const entries: EntryInfo[] = [];
  const junk: JunkEntry[] = [];
  let prefixes: string[];
  try {
    prefixes = await readdir(layout.entriesDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries, junk };
    throw pathError(error, layout.role);
  }
  for (const prefix of prefixes.sort()) {
    const prefixDir = path.join(layout.entriesDir, prefix);
    const isDir = await lstat(prefixDir).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!isDir || !/^[0-9a-f]{2}$/.test(prefix)) {
      junk.push({ dir: prefixDir, name: prefix, problem: "not a cache entry" });
      continue;
    }
    for (const name of (await readdir(prefixDir)).sort()) {
      const dir = path.join(prefixDir, name);
      if (!isEntryName(prefix, name)) {
        junk.push({ dir, name: `${prefix}/${name}`, problem: "not a cache entry" });
        continue;
      }
      const manifest = await readManifest(path.join(dir, "manifest.json"));
      if (manifest?.key !== name) {
        junk.push({ dir, name, problem: "no readable manifest" });
        continue;
      }
      const lastUsed = await stat(path.join(dir, "last-used")).then(
        (s) => s.mtime,
        () => new Date(manifest.createdAt),
      );
      entries.push({ manifest, dir, lastUsed });
    }
  }
  return { entries, junk };
}

/** Removes an entry at once: renamed away first, so no reader finds half of it. */
export async function evictEntry(layout: CacheLayout, key: string): Promise<void> {
  await evictPath(layout, layout.entryDir(key), key);
}

/** Removes anything under entries/ the same way (a link is removed, never followed). */
export async function evictPath(layout: CacheLayout, dir: string, name: string): Promise<void> {
  const trash = layout.trashPath(name.replace(/[^\w.-]/g, "_"));
  await mkdir(path.dirname(trash), { recursive: true });
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

/** Half-written entries of writers that died, and evictions that were interrupted. */
export async function cleanTemp(layout: CacheLayout): Promise<number> {
  let removed = 0;
  for (const name of await readdir(layout.tmpDir).catch(() => [] as string[])) {
    const writer = parseTempName(name);
    const age =
      Date.now() -
      (await stat(path.join(layout.tmpDir, name)).then(
        (s) => s.mtimeMs,
        () => 0,
      ));
    // A pid is only judged on the host (PID namespace) that made it.
    const writerGone = writer ? writer.host === processHostTag() && !isProcessAlive(writer.pid) : true;
    if (writerGone || age > 24 * 3600_000) {
      await rm(path.join(layout.tmpDir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

export interface PruneResult {
  removed: EntryInfo[];
  freedBytes: number;
  keptBytes: number;
}

/** Removes entries not used since `olderThanMs` ago, then least recently used ones until under `maxBytes`. */
export async function prune(layout: CacheLayout, options: { maxBytes?: number; olderThanMs?: number; now?: number }): Promise<PruneResult> {
  await cleanTemp(layout);
  const { entries, junk } = await scanEntries(layout);
  for (const item of junk) await evictPath(layout, item.dir, item.name);
  const now = options.now ?? Date.now();
  entries.sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
  const removed: EntryInfo[] = [];
  let total = entries.reduce((sum, e) => sum + e.manifest.totalBytes, 0);
  for (const entry of entries) {
    const tooOld = options.olderThanMs !== undefined && now - entry.lastUsed.getTime() > options.olderThanMs;
    const tooBig = options.maxBytes !== undefined && total > options.maxBytes;
    if (!tooOld && !tooBig) continue;
    await evictEntry(layout, entry.manifest.key);
    removed.push(entry);
    total -= entry.manifest.totalBytes;
  }
  return { removed, freedBytes: removed.reduce((sum, e) => sum + e.manifest.totalBytes, 0), keptBytes: total };
}

/** Removes every entry and everything else under entries/ and tmp/; returns how many entries there were. */
export async function clear(layout: CacheLayout): Promise<number> {
  const { entries, junk } = await scanEntries(layout);
  for (const entry of entries) await evictEntry(layout, entry.manifest.key);
  for (const item of junk) await evictPath(layout, item.dir, item.name);
  await cleanTemp(layout);
  return entries.length;
}
