import { mkdir, open, rename, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { withLock } from "../util/lock.js";
import { evictEntry } from "./gc.js";
import type { CacheLayout } from "./layout.js";
import { readManifest } from "./manifest.js";

/**
 * Moving a complete entry into place, the one way both a store and an adopt do it: under the
 * key's lock, an entry already there wins; a dir without a readable manifest (cut short by a
 * power loss) is not an entry and is evicted, or it would block this key forever; then one rename,
 * so a reader never sees half an entry.
 */
export async function commitEntry(layout: CacheLayout, key: string, tmp: string): Promise<"committed" | "exists"> {
  const outcome = await withLock(layout.lockTarget(key), async () => {
    if (await committedManifest(layout, key)) return "exists" as const;
    await evictEntry(layout, key);
    const finalDir = layout.entryDir(key);
    await mkdir(path.dirname(finalDir), { recursive: true });
    try {
      await rename(tmp, finalDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") return "exists" as const;
      throw error;
    }
    return "committed" as const;
  });
  if (outcome === "committed") await touchEntry(layout, key);
  return outcome;
}

/** The committed entry's manifest, or undefined (no entry, or one whose manifest is unreadable or of another key). */
export async function committedManifest(layout: CacheLayout, key: string) {
  const manifest = await readManifest(path.join(layout.entryDir(key), "manifest.json"));
  return manifest?.key === key ? manifest : undefined;
}

/** Marks an entry used now, for least-recently-used pruning. */
export async function touchEntry(layout: CacheLayout, key: string): Promise<void> {
  const file = path.join(layout.entryDir(key), "last-used");
  const now = new Date();
  await utimes(file, now, now).catch(() => writeFile(file, ""));
}

/** The manifest marks an entry complete, so it reaches the disk before the entry is renamed into place. */
export async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
