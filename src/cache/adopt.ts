import { rm } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError } from "../errors.js";
import { commitEntry } from "./commit.js";
import { cacheKey } from "./key.js";
import type { CacheLayout } from "./layout.js";
import { readManifest, type Manifest } from "./manifest.js";
import { entryFilesProblem, manifestProblem } from "./validate.js";

export interface AdoptOptions {
  /** One more check of the manifest, e.g. its signature: a problem refuses the entry. */
  check?: (manifest: Manifest) => string | undefined;
  signal?: AbortSignal;
  /**
   * The transport checked every file's sha256 against this manifest while it wrote the file into
   * the temp dir (and nothing else wrote there): the hashes are not read again. Every other check
   * still runs.
   */
  hashesChecked?: boolean;
}

/**
 * What is wrong with the manifest of an entry that arrives for `key`, before any of its files do:
 * its key, that its inputs hash to it, the extra check (the signature), and its layout.
 */
export function incomingManifestProblem(manifest: Manifest, key: string, check?: (manifest: Manifest) => string | undefined): string | undefined {
  if (manifest.key !== key) return `it says it is ${manifest.key.slice(0, 12)}, not ${key.slice(0, 12)}`;
  if (cacheKey(manifest.inputs) !== key) return "its key inputs do not hash to its key";
  return check?.(manifest) ?? manifestProblem(manifest, { key });
}

/**
 * Moves an entry that arrived from elsewhere (a registry, by whatever transport) from a temp dir
 * into the cache, after checking that its inputs hash to its key, the extra check (the
 * signature), what validate.ts checks, and every file's hash. Refusals are CacheIntegrityErrors. The
 * temp dir is removed either way.
 */
export async function adoptEntry(layout: CacheLayout, tmp: string, key: string, options: AdoptOptions = {}): Promise<Manifest> {
  try {
    const manifest = await readManifest(path.join(tmp, "manifest.json"));
    if (!manifest) throw new CacheIntegrityError("no readable manifest.json");
    const problem =
      incomingManifestProblem(manifest, key, options.check) ??
      (await entryFilesProblem(tmp, manifest, { hashes: !options.hashesChecked, signal: options.signal }));
    if (problem) throw new CacheIntegrityError(problem);
    await commitEntry(layout, key, tmp);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
