import { createHash, randomBytes } from "node:crypto";
import { appendFile, chmod, lstat, mkdir, open, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { CacheIntegrityError, errorMessage } from "../errors.js";
import { withLock } from "../util/lock.js";
import { copyWithHash, hashFile } from "./hash-copy.js";
import { cacheKey, type KeyInputs } from "./key.js";
import { layoutProblem, MANIFEST_FORMAT, readManifest, type Manifest } from "./manifest.js";
import { outputRoots, walkTree } from "./outputs.js";
import { isProcessAlive, processHost } from "../util/process.js";

/**
 * The local component cache, content-addressed under `<cache-dir>/components/v1/`:
 *   entries/<k2>/<key>/{manifest.json, files/..., last-used}   committed entries
 *   tmp/<key>.<pid>.<random>/                                   entries being written
 *   locks/<key>.lock                                            one writer per key
 * An entry is written under tmp/, verified, and renamed into entries/ last, so a reader never
 * sees half of one, and a writer killed with -9 leaves only tmp/ garbage that `prune` removes.
 * Every file's sha256 is checked again on restore; a bad entry is evicted, never used.
 */

export const CACHE_LAYOUT_VERSION = "v1";

export interface EntryInfo {
  manifest: Manifest;
  dir: string;
  lastUsed: Date;
}

export interface StoreRequest {
  key: string;
  inputs: KeyInputs;
  component: { name: string; kind: string; tag?: string };
  installRoot: string;
  buildDurationMs?: number;
  /** Ctrl-C: stop between (and inside) file copies; the temp entry is removed. */
  signal?: AbortSignal;
}

/** The entry was there when the run planned, and is gone now (a `cache prune` or `clear` meanwhile). */
export class EntryGoneError extends Error {}

export interface RestoreResult {
  files: number;
  bytes: number;
  ms: number;
  manifest: Manifest;
}

export class LocalCache {
  readonly root: string;

  constructor(cacheDir: string) {
    this.root = path.join(cacheDir, "components", CACHE_LAYOUT_VERSION);
  }

  entryDir(key: string): string {
    return path.join(this.root, "entries", key.slice(0, 2), key);
  }

  /** The committed entry's manifest, or undefined (no entry, or one whose manifest is unreadable). */
  async get(key: string): Promise<Manifest | undefined> {
    const manifest = await readManifest(path.join(this.entryDir(key), "manifest.json"));
    return manifest?.key === key ? manifest : undefined;
  }

  async list(): Promise<EntryInfo[]> {
    return (await this.scan()).entries;
  }

  /** Entry dirs whose manifest is missing or unreadable (e.g. cut short by a power loss). */
  async broken(): Promise<string[]> {
    return (await this.scan()).broken;
  }

  private async scan(): Promise<{ entries: EntryInfo[]; broken: string[] }> {
    const entries: EntryInfo[] = [];
    const broken: string[] = [];
    const base = path.join(this.root, "entries");
    for (const prefix of await readdir(base).catch(() => [] as string[])) {
      for (const key of await readdir(path.join(base, prefix)).catch(() => [] as string[])) {
        const dir = path.join(base, prefix, key);
        const manifest = await readManifest(path.join(dir, "manifest.json"));
        if (!manifest || manifest.key !== key) {
          broken.push(key);
          continue;
        }
        const used = await stat(path.join(dir, "last-used")).then(
          (s) => s.mtime,
          () => new Date(manifest.createdAt),
        );
        entries.push({ manifest, dir, lastUsed: used });
      }
    }
    return { entries, broken };
  }

  /** Copies a built component's outputs out of the install tree into a new entry. */
  async store(request: StoreRequest): Promise<"stored" | "exists" | "empty"> {
    if (await this.get(request.key)) return "exists";
    return withLock(path.join(this.root, "locks", request.key), async () => {
      if (await this.get(request.key)) return "exists";
      // A dir without a readable manifest is not an entry; it would block this one forever.
      await this.evict(request.key);
      const roots = await outputRoots(request.component.kind, request.component.name, request.installRoot);
      if (roots.length === 0) return "empty";
      const tmp = await this.newTempDir(request.key);
      try {
        const manifest = await this.writeFiles(tmp, request, roots);
        await this.verifyFiles(tmp, manifest, request.signal);
        const finalDir = this.entryDir(request.key);
        await mkdir(path.dirname(finalDir), { recursive: true });
        try {
          await rename(tmp, finalDir);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === "ENOTEMPTY" || code === "EEXIST") return "exists";
          throw error;
        }
        await this.touch(request.key);
        return "stored";
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }

  private async writeFiles(tmp: string, request: StoreRequest, roots: string[]): Promise<Manifest> {
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
    for (const entry of await walkTree(request.installRoot, roots)) {
      request.signal?.throwIfAborted();
      const target = path.join(filesDir, entry.path);
      if (entry.type === "dir") {
        await mkdir(target, { recursive: true });
        manifest.dirs.push({ path: entry.path, mode: entry.mode });
      } else if (entry.type === "symlink") {
        await symlink(entry.target ?? "", target);
        manifest.symlinks.push({ path: entry.path, target: entry.target ?? "" });
      } else {
        const { sha256, size } = await copyWithHash(path.join(request.installRoot, entry.path), target, entry.mode, request.signal);
        await chmod(target, entry.mode);
        manifest.files.push({ path: entry.path, size, sha256, mode: entry.mode });
        manifest.totalBytes += size;
      }
    }
    await writeDurably(path.join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
    return manifest;
  }

  /**
   * The entry's files/ holds exactly what the manifest lists, each of the listed type, and every
   * listed file has its size and hash; anything else is an integrity error. (A directory swapped
   * for a symlink would make a restore read from outside the entry.)
   */
  private async verifyFiles(entryDir: string, manifest: Manifest, signal?: AbortSignal): Promise<void> {
    const layout = layoutProblem(manifest);
    if (layout) throw new CacheIntegrityError(layout);
    const shape = await treeShapeProblem(path.join(entryDir, "files"), manifest);
    if (shape) throw new CacheIntegrityError(shape);
    for (const file of manifest.files) {
      signal?.throwIfAborted();
      const source = path.join(entryDir, "files", file.path);
      const info = await lstat(source).catch(() => undefined);
      if (info && !info.isFile()) throw new CacheIntegrityError(`${file.path} is not a regular file`);
      const actual = await hashFile(source, signal).catch((error: unknown) => {
        if (signal?.aborted) throw error;
        return undefined;
      });
      if (!actual) throw new CacheIntegrityError(`${file.path} is missing`);
      if (actual.size !== file.size || actual.sha256 !== file.sha256) throw new CacheIntegrityError(`${file.path} does not match its sha256`);
    }
  }

  /** A directory in the cache's tmp/ for building an entry that `adopt` then moves into place. */
  async newTempDir(key: string): Promise<string> {
    const dir = path.join(this.root, "tmp", `${key}.${hostTag()}.${process.pid}.${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Moves an entry that arrived from elsewhere (a registry) into the cache, after checking that
   * it is complete, that its manifest's inputs hash to its key, and any extra check (signature).
   * The temp dir is removed either way.
   */
  async adopt(tmp: string, key: string, extraCheck?: (manifest: Manifest) => string | undefined, signal?: AbortSignal): Promise<Manifest> {
    try {
      const manifest = await readManifest(path.join(tmp, "manifest.json"));
      if (!manifest) throw new CacheIntegrityError("no readable manifest.json");
      if (manifest.key !== key) throw new CacheIntegrityError(`it says it is ${manifest.key.slice(0, 12)}, not ${key.slice(0, 12)}`);
      if (cacheKey(manifest.inputs) !== key) throw new CacheIntegrityError("its key inputs do not hash to its key");
      const problem = extraCheck?.(manifest);
      if (problem) throw new CacheIntegrityError(problem);
      await this.verifyFiles(tmp, manifest, signal);
      await withLock(path.join(this.root, "locks", key), async () => {
        if (await this.get(key)) return;
        await this.evict(key);
        const finalDir = this.entryDir(key);
        await mkdir(path.dirname(finalDir), { recursive: true });
        await rename(tmp, finalDir);
      });
      await this.touch(key);
      return manifest;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Restores an entry into the install tree: files are copied into a staging dir beside it with
   * their hashes checked on the way, and moved into place only when all are right.
   */
  async restore(key: string, installRoot: string, signal?: AbortSignal): Promise<RestoreResult> {
    const started = performance.now();
    const manifest = await this.get(key);
    if (!manifest) {
      const exists = await stat(this.entryDir(key)).then(
        () => true,
        () => false,
      );
      if (!exists) throw new EntryGoneError(`entry ${key.slice(0, 12)} was removed meanwhile (by a cache prune or clear)`);
      throw new CacheIntegrityError(`entry ${key.slice(0, 12)} has no readable manifest`);
    }
    const entryFiles = path.join(this.entryDir(key), "files");
    const staging = path.join(path.dirname(installRoot), `.restore-${manifest.component.name}-${randomBytes(4).toString("hex")}`);
    try {
      const layout = layoutProblem(manifest);
      if (layout) throw new CacheIntegrityError(`entry ${key.slice(0, 12)} of ${manifest.component.name}: ${layout}`);
      await mkdir(staging, { recursive: true });
      for (const dir of manifest.dirs) await mkdir(path.join(staging, dir.path), { recursive: true });
      for (const file of manifest.files) {
        signal?.throwIfAborted();
        const target = path.join(staging, file.path);
        await mkdir(path.dirname(target), { recursive: true });
        // A missing source file is the entry's fault; a failing write (disk full) is not.
        const source = path.join(entryFiles, file.path);
        if (
          !(await lstat(source).then(
            (info) => info.isFile(),
            () => true,
          ))
        ) {
          throw new CacheIntegrityError(`entry ${key.slice(0, 12)} of ${manifest.component.name}: ${file.path} is not a regular file`);
        }
        const copied = await copyWithHash(source, target, file.mode, signal).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT" && error.path === source) return undefined;
          throw error;
        });
        if (!copied || copied.sha256 !== file.sha256 || copied.size !== file.size) {
          throw new CacheIntegrityError(
            `entry ${key.slice(0, 12)} of ${manifest.component.name}: ${file.path} ${copied ? "does not match its sha256" : "is missing"}`,
          );
        }
        await chmod(target, file.mode);
      }
      for (const link of manifest.symlinks) {
        await mkdir(path.dirname(path.join(staging, link.path)), { recursive: true });
        await symlink(link.target, path.join(staging, link.path));
      }
      for (const dir of [...manifest.dirs].reverse()) await chmod(path.join(staging, dir.path), dir.mode);
      for (const root of manifest.roots) {
        const destination = path.join(installRoot, root);
        await mkdir(path.dirname(destination), { recursive: true });
        await rm(destination, { recursive: true, force: true });
        if (
          await lstat(path.join(staging, root)).then(
            () => true,
            () => false,
          )
        )
          await rename(path.join(staging, root), destination);
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    await this.touch(key);
    return { files: manifest.files.length, bytes: manifest.totalBytes, ms: performance.now() - started, manifest };
  }

  /** Removes an entry at once: renamed away first, so no reader finds half of it. */
  async evict(key: string): Promise<void> {
    const dir = this.entryDir(key);
    const trash = path.join(this.root, "tmp", `evicted-${key}.${randomBytes(4).toString("hex")}`);
    await mkdir(path.dirname(trash), { recursive: true });
    try {
      await rename(dir, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Re-hashes one entry; returns the problem, or undefined when it is sound. */
  async check(key: string): Promise<string | undefined> {
    const manifest = await this.get(key);
    if (!manifest) return "manifest missing or unreadable";
    try {
      await this.verifyFiles(this.entryDir(key), manifest);
    } catch (error) {
      return errorMessage(error);
    }
    return undefined;
  }

  async touch(key: string): Promise<void> {
    const file = path.join(this.entryDir(key), "last-used");
    const now = new Date();
    await utimes(file, now, now).catch(() => writeFile(file, ""));
  }

  /** Removes entries not used since `olderThanMs` ago, then least recently used ones until under `maxBytes`. */
  async prune(options: { maxBytes?: number; olderThanMs?: number; now?: number }): Promise<{ removed: EntryInfo[]; freedBytes: number; keptBytes: number }> {
    await this.cleanTemp();
    for (const key of await this.broken()) await this.evict(key);
    const now = options.now ?? Date.now();
    const entries = (await this.list()).sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
    const removed: EntryInfo[] = [];
    let total = entries.reduce((sum, e) => sum + e.manifest.totalBytes, 0);
    for (const entry of entries) {
      const tooOld = options.olderThanMs !== undefined && now - entry.lastUsed.getTime() > options.olderThanMs;
      const tooBig = options.maxBytes !== undefined && total > options.maxBytes;
      if (!tooOld && !tooBig) continue;
      await this.evict(entry.manifest.key);
      removed.push(entry);
      total -= entry.manifest.totalBytes;
    }
    return { removed, freedBytes: removed.reduce((sum, e) => sum + e.manifest.totalBytes, 0), keptBytes: total };
  }

  /** Half-written entries of writers that died, and evictions that were interrupted. */
  async cleanTemp(): Promise<number> {
    const tmp = path.join(this.root, "tmp");
    let removed = 0;
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      // <key>.<host>.<pid>.<random>: a pid is only judged on the host (PID namespace) that made it.
      const [, host, pid] = /^[0-9a-f]{64}\.([0-9a-f]{8})\.(\d+)\./.exec(name) ?? [];
      const age =
        Date.now() -
        (await stat(path.join(tmp, name)).then(
          (s) => s.mtimeMs,
          () => 0,
        ));
      const ours = host === hostTag();
      const writerGone = ours ? !isProcessAlive(Number(pid)) : host === undefined;
      if (writerGone || age > 24 * 3600_000) {
        await rm(path.join(tmp, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  async clear(): Promise<number> {
    const { entries, broken } = await this.scan();
    for (const key of [...entries.map((e) => e.manifest.key), ...broken]) await this.evict(key);
    await this.cleanTemp();
    return entries.length;
  }

  /** One line per run, for the hit ratio of `cache stats`. */
  async recordRun(run: { preset: string; hits: number; misses: number }): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await appendFile(path.join(this.root, "runs.ndjson"), `${JSON.stringify({ time: new Date().toISOString(), ...run })}\n`);
  }

  async recentRuns(limit = 20): Promise<Array<{ time: string; preset: string; hits: number; misses: number }>> {
    const text = await readFile(path.join(this.root, "runs.ndjson"), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .slice(-limit)
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      });
  }
}

/** The manifest marks an entry complete, so it reaches the disk before the entry is renamed into place. */
async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function hostTag(): string {
  return createHash("sha256").update(processHost()).digest("hex").slice(0, 8);
}

/** What is wrong with the shape of an entry's files/ against its manifest, if anything. */
async function treeShapeProblem(filesDir: string, manifest: Manifest): Promise<string | undefined> {
  const listed = new Map<string, "file" | "dir" | "symlink">([
    ...manifest.files.map((f) => [f.path, "file"] as const),
    ...manifest.dirs.map((d) => [d.path, "dir"] as const),
    ...manifest.symlinks.map((l) => [l.path, "symlink"] as const),
  ]);
  // Directories above the roots (e.g. backends/ of backends/onnxruntime) hold nothing else.
  const ancestors = new Set(
    manifest.roots.flatMap((root) =>
      root
        .split("/")
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
    ),
  );
  const top = await readdir(filesDir).catch(() => [] as string[]);
  let present: Awaited<ReturnType<typeof walkTree>>;
  try {
    present = await walkTree(filesDir, top);
  } catch (error) {
    return `files/ cannot be read: ${errorMessage(error)}`;
  }
  const expectedType = (p: string) => listed.get(p) ?? (ancestors.has(p) ? "dir" : undefined);
  const swapped = present.find((entry) => expectedType(entry.path) !== undefined && entry.type !== expectedType(entry.path));
  if (swapped) return `${swapped.path} is a ${swapped.type}, the manifest says ${expectedType(swapped.path)}`;
  const found = new Set(present.map((entry) => entry.path));
  const missing = [...listed.keys()].find((p) => !found.has(p));
  if (missing) return `${missing} is missing`;
  const unlisted = present.find((entry) => expectedType(entry.path) === undefined);
  return unlisted ? `${unlisted.path} is not in the manifest` : undefined;
}
