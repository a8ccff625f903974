import path from "node:path";
import { cleanTemp, evictEntry, evictPath, scanEntries } from "./gc.js";
import type { CacheLayout } from "./layout.js";
import { readManifest } from "./manifest.js";
import { type CacheComponent, entryFilesProblem, manifestProblem } from "./validate.js";

/** Checking committed entries again: what `cache verify` does. */

/**
 * Re-checks one entry, every file's hash included; returns the problem, or undefined when it is
 * sound. Without `component`, the entry must hold the component its key inputs name.
 */
export async function checkEntry(
  layout: CacheLayout,
  key: string,
  options: { component?: CacheComponent; signal?: AbortSignal } = {},
): Promise<string | undefined> {
  const dir = layout.entryDir(key);
  const manifest = await readManifest(path.join(dir, "manifest.json"));
  if (manifest?.key !== key) return "manifest missing or unreadable";
  return (
    manifestProblem(manifest, { key, component: options.component ?? manifest.inputs.component }) ??
    (await entryFilesProblem(dir, manifest, { hashes: true, signal: options.signal }))
  );
}

export interface VerifyReport {
  checked: number;
  /** Evicted entries, and removed things that were no entry: label is the short key, or entries/<path> for a stray name. */
  evicted: Array<{ label: string; component?: string; problem: string }>;
  /** Unfinished writes of writers that died. */
  cleaned: number;
}

/** Checks every entry, evicting each that is not sound and everything under entries/ that is no entry. */
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
    await evictPath(layout, item.dir, item.name);
    evicted.push({ label: /^[0-9a-f]{64}$/.test(item.name) ? item.name.slice(0, 12) : `entries/${item.name}`, problem: item.problem });
  }
  return { checked: entries.length, evicted, cleaned: await cleanTemp(layout) };
}
