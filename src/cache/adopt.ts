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
    if (manifest.key !== key) throw new CacheIntegrityError(`it says it is ${manifest.key.slice(0, 12)}, not ${key.slice(0, 12)}`);
    if (cacheKey(manifest.inputs) !== key) throw new CacheIntegrityError("its key inputs do not hash to its key");
    const problem =
      options.check?.(manifest) ?? manifestProblem(manifest, { key }) ?? (await entryFilesProblem(tmp, manifest, { hashes: true, signal: options.signal }));
    if (problem) throw new CacheIntegrityError(problem);
    await commitEntry(layout, key, tmp);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
