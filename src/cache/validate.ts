import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { hashFile } from "./hash-copy.js";
import type { Manifest } from "./manifest.js";
import { COMPONENT_DIRS, walkTree } from "./outputs.js";

/**
 * What an entry may hold, checked wherever one enters (adopt) or is used (restore): the
 * manifest's paths, and the entry on disk against its manifest.
 */

export interface CacheComponent {
  name: string;
  kind: string;
}

/** Paths in a manifest must stay inside the entry and the install tree. */
export function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "." || part === "");
}

/**
 * What is wrong with where an entry would write, or undefined. An entry (which may come from a
 * registry) may only write its own component's part of the install tree: `backends/<name>` for a
 * backend, top-level paths other than backends/repoagents/caches for core; and no symlink may
 * be a root, stand in the path of another entry, or point outside its root.
 */
export function manifestProblem(manifest: Manifest, expected: { key: string }): string | undefined {
  if (manifest.key !== expected.key) return `it says it is ${manifest.key.slice(0, 12)}, not ${expected.key.slice(0, 12)}`;
  const { kind, name } = manifest.component;
  if (!/^[a-z0-9_][a-z0-9_-]*$/.test(name)) return `component name '${name}' is not valid`;
  const dir = COMPONENT_DIRS[kind];
  if (dir) {
    if (manifest.roots.length !== 1 || manifest.roots[0] !== `${dir}/${name}`) return `a ${kind} may only install ${dir}/${name}`;
  } else if (kind === "core") {
    const reserved = new Set(Object.values(COMPONENT_DIRS));
    const bad = manifest.roots.find((root) => root.includes("/") || !isSafeRelativePath(root) || reserved.has(root));
    if (bad !== undefined) return `core may not install '${bad}'`;
  } else {
    return `unknown component kind '${kind}'`;
  }
  const under = (p: string) => manifest.roots.find((root) => p === root || p.startsWith(`${root}/`));
  const paths = [...manifest.files.map((f) => f.path), ...manifest.dirs.map((d) => d.path), ...manifest.symlinks.map((l) => l.path)];
  for (const p of paths) {
    if (!isSafeRelativePath(p)) return `unsafe path ${p}`;
    if (!under(p)) return `${p} is outside the component's part of the install tree`;
  }
  for (const link of manifest.symlinks) {
    if (manifest.roots.includes(link.path)) return `root ${link.path} is a symlink`;
    if (paths.some((p) => p.startsWith(`${link.path}/`))) return `${link.path} is a symlink in the path of other files`;
    const root = under(link.path) ?? "";
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(link.path), link.target));
    if (link.target.startsWith("/") || !(resolved === root || resolved.startsWith(`${root}/`))) return `symlink ${link.path} points outside ${root}`;
  }
  return undefined;
}

/**
 * The entry's files/ holds exactly what the manifest lists, each of the listed type, and (with
 * `hashes`) every listed file has its size and hash; undefined when it does. (A directory swapped
 * for a symlink would make a restore read from outside the entry.)
 */
export async function entryFilesProblem(entryDir: string, manifest: Manifest, options: { hashes: boolean; signal?: AbortSignal }): Promise<string | undefined> {
  const filesDir = path.join(entryDir, "files");
  return (await treeShapeProblem(filesDir, manifest)) ?? (options.hashes ? await hashProblem(filesDir, manifest, options.signal) : undefined);
}

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
    return `files/ cannot be read: ${String((error as Error).message)}`;
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

async function hashProblem(filesDir: string, manifest: Manifest, signal?: AbortSignal): Promise<string | undefined> {
  for (const file of manifest.files) {
    signal?.throwIfAborted();
    const source = path.join(filesDir, file.path);
    const info = await lstat(source).catch(() => undefined);
    if (info && !info.isFile()) return `${file.path} is not a regular file`;
    const actual = await hashFile(source, signal).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return undefined;
    });
    if (!actual) return `${file.path} is missing`;
    if (actual.size !== file.size || actual.sha256 !== file.sha256) return `${file.path} does not match its sha256`;
  }
  return undefined;
}
