import path from "node:path";
import { cleanTemp, evictEntry, scanEntries } from "./gc.js";
import type { CacheLayout } from "./layout.js";
import { readManifest } from "./manifest.js";
import { entryFilesProblem, manifestProblem } from "./validate.js";

/** Checking committed entries again: what `cache verify` does. */

/** Re-checks one entry, every file's hash included; returns the problem, or undefined when it is sound. */
export async function checkEntry(layout: CacheLayout, key: string, options: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  const dir = layout.entryDir(key);
  const manifest = await readManifest(path.join(dir, "manifest.json"));
  if (manifest?.key !== key) return "manifest missing or unreadable";
  return manifestProblem(manifest, { key }) ?? (await entryFilesProblem(dir, manifest, { hashes: true, signal: options.signal }));
}

export interface VerifyReport {
  checked: number;
  /** Evicted entries: label is the short key. */
  evicted: Array<{ label: string; component?: string; problem: string }>;
  /** Unfinished writes of writers that died. */
  cleaned: number;
}

/** Checks every entry, evicting each that is not sound or has no readable manifest. */
export async function verifyCache(layout: CacheLayout, signal?: AbortSignal): Promise<VerifyReport> {
  const { entries, junk } = await scanEntries(layout);
  const evicted: VerifyReport["evicted"] = [];
  for (const entry of entries) {
    const key = entry.manifest.key;
    const problem = await checkEntry(layout, key, { signal });
    if (!problem) continue;
    await evictEntry(layout, key);
    evicted.push({ label: key.slice(0, 12), component: entry.manifest.component.name, problem });
  }
  for (const item of junk) {
    await evictEntry(layout, item.name);
    evicted.push({ label: item.name.slice(0, 12), problem: item.problem });
  }
  return { checked: entries.length, evicted, cleaned: await cleanTemp(layout) };
}
