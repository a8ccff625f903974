import { chmodSync, mkdirSync, symlinkSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError } from "../errors.js";
import { commitEntry, committedManifest, writeDurably } from "./commit.js";
import { copyWithHash } from "./hash-copy.js";
import type { KeyInputs } from "./key.js";
import type { CacheLayout } from "./layout.js";
import { MANIFEST_FORMAT, type Manifest } from "./manifest.js";
import { eventLoopPacer } from "../util/pace.js";
import { outputRoots, walkTree } from "./outputs.js";
import { manifestProblem, OWNER_DIR_BITS, OWNER_FILE_BITS } from "./validate.js";

/**
 * Storing a built component: its outputs are copied out of the install tree into a temp entry,
 * each file hashed on the way (the bytes are read once; restore checks them again), then
 * committed. Device nodes, FIFOs and sockets in the install tree are left out, files and directories
 * keep only their permission bits, and every directory gets u+rwx and every file u+r, so a stored
 * entry never holds what an entry may not hold.
 */

export interface StoreRequest {
  key: string;
  inputs: KeyInputs;
  component: { name: string; kind: string; tag?: string };
  installRoot: string;
  buildDurationMs?: number;
  /** Ctrl-C: stop between (and inside) file copies; the temp entry is removed. */
  signal?: AbortSignal;
}

export async function storeEntry(layout: CacheLayout, request: StoreRequest): Promise<"stored" | "exists" | "empty"> {
  if (await committedManifest(layout, request.key)) return "exists";
  const roots = await outputRoots(request.component.kind, request.component.name, request.installRoot);
  if (roots.length === 0) return "empty";
  const tmp = layout.newTempPath(request.key);
  await mkdir(tmp, { recursive: true });
  try {
    const manifest = await writeEntryFiles(tmp, request, roots);
    if (manifest.roots.length === 0) return "empty";
    // An entry a restore would refuse (e.g. a symlink out of the component) is not stored at all.
    const problem = manifestProblem(manifest, { key: request.key, component: request.component });
    if (problem) throw new CacheIntegrityError(problem);
    await writeDurably(path.join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
    return (await commitEntry(layout, request.key, tmp)) === "committed" ? "stored" : "exists";
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function writeEntryFiles(tmp: string, request: StoreRequest, roots: string[]): Promise<Manifest> {
  const filesDir = path.join(tmp, "files");
  await mkdir(filesDir, { recursive: true });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    key: request.key,
    component: request.component,
    inputs: request.inputs,
    files: [],
    symlinks: [],
    dirs: [],
    roots,
    totalBytes: 0,
    createdAt: new Date().toISOString(),
    ...(request.buildDurationMs !== undefined ? { buildDurationMs: Math.round(request.buildDurationMs) } : {}),
  };
  // Synchronous calls for the many small things, paced (util/pace.ts); large files are streamed.
  const pace = eventLoopPacer();
  for (const entry of await walkTree(request.installRoot, roots)) {
    await pace();
    request.signal?.throwIfAborted();
    const target = path.join(filesDir, entry.path);
    // Permission bits only, with what a restore by any user needs (validate.ts refuses less).
    const mode = (entry.mode & 0o777) | (entry.type === "dir" ? OWNER_DIR_BITS : OWNER_FILE_BITS);
    if (entry.type === "dir") {
      mkdirSync(target, { recursive: true });
      manifest.dirs.push({ path: entry.path, mode });
    } else if (entry.type === "symlink") {
      symlinkSync(entry.target ?? "", target);
      manifest.symlinks.push({ path: entry.path, target: entry.target ?? "" });
    } else if (entry.type === "file") {
      const { sha256, size } = await copyWithHash(path.join(request.installRoot, entry.path), target, mode, request.signal);
      chmodSync(target, mode);
      manifest.files.push({ path: entry.path, size, sha256, mode });
      manifest.totalBytes += size;
    }
  }
  // A root that was a device node, FIFO or socket was left out: it is no root of the entry
  // (validate.ts requires each root to be listed).
  const kept = new Set([...manifest.files, ...manifest.dirs, ...manifest.symlinks].map((item) => item.path));
  manifest.roots = manifest.roots.filter((root) => kept.has(root));
  return manifest;
}
