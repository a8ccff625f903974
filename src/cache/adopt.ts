import { rm } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError } from "../errors.js";
import type { VerifiedFiles } from "./file-stamp.js";
import { commitEntry } from "./commit.js";
import { cacheKey } from "./key.js";
import type { CacheLayout } from "./layout.js";
import { readManifest, type Manifest } from "./manifest.js";
import { entryFilesProblem, manifestProblem, type CacheComponent } from "./validate.js";

export interface AdoptOptions {
  /** The component whose key this is (from the plan, or the registry tag it came under). */
  component?: CacheComponent;
  /** One more check of the manifest, e.g. its signature: a problem refuses the entry. */
  check?: (manifest: Manifest) => string | undefined;
  signal?: AbortSignal;
  /**
   * The files whose sha256 the transport checked against this manifest while it wrote them into
   * the temp dir, with their stamps then: those whose stamp still holds are not read again. Every
   * other check still runs, and every other file is hashed.
   */
  verified?: VerifiedFiles | undefined;
}

/**
 * What is wrong with the manifest of an entry that arrives for `key`, before any of its files do:
 * its key, that its inputs hash to it, the extra check (the signature), that it holds the
 * component its key is for, and its layout.
 */
export function incomingManifestProblem(
  manifest: Manifest,
  key: string,
  options: { check?: ((manifest: Manifest) => string | undefined) | undefined; component?: CacheComponent | undefined } = {},
): string | undefined {
  if (manifest.key !== key) return `it says it is ${manifest.key.slice(0, 12)}, not ${key.slice(0, 12)}`;
  if (cacheKey(manifest.inputs) !== key) return "its key inputs do not hash to its key";
  // Without a component from the caller, the one its key inputs name (as `cache verify` checks).
  return options.check?.(manifest) ?? manifestProblem(manifest, { key, component: options.component ?? manifest.inputs.component });
}

/**
 * Moves an entry that arrived from elsewhere (a registry, by whatever transport) from a temp dir
 * into the cache, after checking everything validate.ts checks, that its inputs hash to its key,
 * the extra check (the signature), and every file's hash. Refusals are CacheIntegrityErrors. The
 * temp dir is removed either way.
 */
export async function adoptEntry(layout: CacheLayout, tmp: string, key: string, options: AdoptOptions = {}): Promise<Manifest> {
  try {
    const manifest = await readManifest(path.join(tmp, "manifest.json"));
    if (!manifest) throw new CacheIntegrityError("no readable manifest.json");
    const problem =
      incomingManifestProblem(manifest, key, { check: options.check, component: options.component }) ??
      (await entryFilesProblem(tmp, manifest, { hashes: true, verified: options.verified, signal: options.signal }));
    if (problem) throw new CacheIntegrityError(problem);
    await commitEntry(layout, key, tmp);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
