import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { isProcessAlive } from "../util/process.js";
import { hostTag, parseTempName, type CacheLayout } from "./layout.js";
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

/** A dir under entries/ without a readable manifest (e.g. cut short by a power loss). */
export interface JunkEntry {
  dir: string;
  name: string;
  problem: string;
}

/** Every committed entry, and the entry dirs without a readable manifest. */
export async function scanEntries(layout: CacheLayout): Promise<{ entries: EntryInfo[]; junk: JunkEntry[] }> {
  const entries: EntryInfo[] = [];
  const junk: JunkEntry[] = [];
  for (const prefix of await readdir(layout.entriesDir).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(layout.entriesDir, prefix)).catch(() => [] as string[])) {
      const dir = path.join(layout.entriesDir, prefix, name);
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
  const dir = layout.entryDir(key);
  const trash = layout.trashPath(key);
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
    const writerGone = writer ? writer.host === hostTag() && !isProcessAlive(writer.pid) : true;
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
  for (const item of junk) await evictEntry(layout, item.name);
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

/** Removes every entry, broken ones too, and tmp/; returns how many entries there were. */
export async function clear(layout: CacheLayout): Promise<number> {
  const { entries, junk } = await scanEntries(layout);
  for (const entry of entries) await evictEntry(layout, entry.manifest.key);
  for (const item of junk) await evictEntry(layout, item.name);
  await cleanTemp(layout);
  return entries.length;
}
