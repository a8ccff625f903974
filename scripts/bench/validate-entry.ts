// Row 9: checking a large cache entry. Whoever can push an unsigned entry to the registry chooses
// how many paths it has, and every store, adopt, restore and `cache verify` checks them all, so
// the checks must stay linear in the number of paths (a scan per symlink once made 20,000 files
// and 20,000 links take 146 s).
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { cacheKey, type KeyInputs } from "../../src/cache/key.js";
import type { Manifest } from "../../src/cache/manifest.js";
import { LocalCache } from "../../src/cache/store.js";
import { manifestProblem } from "../../src/cache/validate.js";

const ROOT = "backends/synthetic";
/** Per directory: 6 files and 3 links to them, so 10 paths. */
const FILES_PER_DIR = 6;
const LINKS_PER_DIR = 3;
const PATHS_PER_DIR = 1 + FILES_PER_DIR + LINKS_PER_DIR;

const inputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "synthetic" },
  section: "bench-many-paths",
  sources: {},
  buildbase: { dockerfile: "d", baseImage: "b", baseImageId: "b" },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};

/** A manifest of about `paths` paths: the root, then directories of 6 files and 3 links to them. */
export function manyPathManifest(paths: number): Manifest {
  const manifest: Manifest = {
    format: 1,
    key: cacheKey(inputs),
    component: { kind: "backend", name: "synthetic" },
    inputs,
    files: [],
    dirs: [{ path: ROOT, mode: 0o755 }],
    symlinks: [],
    roots: [ROOT],
    totalBytes: 0,
    createdAt: new Date(0).toISOString(),
  };
  for (let d = 0; d < Math.floor((paths - 1) / PATHS_PER_DIR); d++) {
    const dir = `${ROOT}/d${d}`;
    manifest.dirs.push({ path: dir, mode: 0o755 });
    for (let f = 0; f < FILES_PER_DIR; f++) manifest.files.push({ path: `${dir}/lib${f}.so`, size: 16, sha256: "e".repeat(64), mode: 0o644 });
    for (let l = 0; l < LINKS_PER_DIR; l++) manifest.symlinks.push({ path: `${dir}/lib${l}.so.1`, target: `lib${l}.so` });
  }
  return manifest;
}

/** Seconds the pure checks of a manifest of `paths` paths take (they must find nothing wrong). */
export function manifestCheckSeconds(paths: number): number {
  const manifest = manyPathManifest(paths);
  const started = performance.now();
  const problem = manifestProblem(manifest, { key: manifest.key, component: manifest.component });
  const seconds = (performance.now() - started) / 1000;
  if (problem) throw new Error(`the synthetic manifest was refused: ${problem}`);
  return seconds;
}

/**
 * The entry on disk: an install tree of about `paths` paths (files of 16 bytes) stored into a
 * cache under `temp`. Returns the cache, the key and the entry's files/ dir.
 */
export async function manyPathEntry(temp: string, paths: number): Promise<{ cache: LocalCache; key: string; filesDir: string }> {
  const install = path.join(temp, "many-paths", "install");
  const shape = manyPathManifest(paths);
  for (const dir of shape.dirs) await mkdir(path.join(install, dir.path), { recursive: true });
  for (const file of shape.files) await writeFile(path.join(install, file.path), `${file.path.slice(-15).padStart(15, "-")}\n`);
  for (const link of shape.symlinks) await symlink(link.target, path.join(install, link.path));
  const cache = new LocalCache(path.join(temp, "many-paths", "cache"));
  const key = cacheKey(inputs);
  if ((await cache.store({ key, inputs, component: { kind: "backend", name: "synthetic" }, installRoot: install })) !== "stored") {
    throw new Error("the synthetic entry was not stored");
  }
  await rm(install, { recursive: true, force: true });
  return { cache, key, filesDir: path.join(cache.entryDir(key), "files") };
}

/** Seconds `cache verify`'s check of one entry takes: manifest, the tree walked, every file hashed. */
export async function entryCheckSeconds(cache: LocalCache, key: string): Promise<number> {
  const started = performance.now();
  const problem = await cache.check(key);
  const seconds = (performance.now() - started) / 1000;
  if (problem) throw new Error(`the synthetic entry was refused: ${problem}`);
  return seconds;
}

/** The same walk and hashing with coreutils: `find` and `sha256sum` over the entry's files/. */
export async function findSha256sumSeconds(filesDir: string): Promise<number> {
  const started = performance.now();
  await execa("bash", ["-c", 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null', "bash", filesDir]);
  return (performance.now() - started) / 1000;
}
