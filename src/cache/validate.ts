import { lstatSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { INSTALL_DIRS, installDirOf } from "../buildpy/cmake-build.js";
import { errorMessage } from "../errors.js";
import { fileStamp, type VerifiedFiles } from "./file-stamp.js";
import { hashFile } from "./hash-copy.js";
import type { Manifest } from "./manifest.js";
import { walkTree, type TreeEntry } from "./outputs.js";
import { eventLoopPacer } from "../util/pace.js";
import { isNotRegularFile } from "./regular-file.js";

/**
 * What an entry may hold, checked wherever one enters (adopt, from a registry) or is used
 * (restore, from a cache dir that may be shared): regular files, directories, and symlinks that,
 * followed as the kernel follows them, stay inside the component's own roots; permission bits
 * only; every path once, with one type; the component whose key it sits under. And the entry on
 * disk is exactly what its manifest lists (which a signature covers): nothing extra, nothing of
 * another type, mode, size or target.
 */

export interface CacheComponent {
  name: string;
  kind: string;
}

/** The most links one path may pass through, as Linux's ELOOP limit. */
const MAX_LINK_FOLLOWS = 40;

/** Paths in a manifest must stay inside the entry and the install tree. */
export function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "." || part === "");
}

const isPermissionMode = (mode: number) => Number.isInteger(mode) && mode >= 0 && mode <= 0o777;
const formatMode = (mode: number) => (Number.isInteger(mode) && mode >= 0 ? `0o${mode.toString(8).padStart(3, "0")}` : String(mode));

/**
 * What a restore by a user who is not root needs of each mode: a directory it can list, enter and
 * move into place (a directory is moved by writing its `..`), and later remove; a file it can read
 * (the final image's `docker build` reads it as that user). A real build never makes anything
 * else: build.py ends with `chmod -R a+rw` of the install tree, and a store adds these bits.
 */
export const OWNER_DIR_BITS = 0o700;
export const OWNER_FILE_BITS = 0o400;

/**
 * What is wrong with a manifest, or undefined: pure checks of what the entry would write. `key`
 * is the key it sits under; `component`, when the caller knows it, the component of that key.
 */
export function manifestProblem(manifest: Manifest, expected: { key: string; component?: CacheComponent | undefined }): string | undefined {
  if (manifest.key !== expected.key) return `it says it is ${manifest.key.slice(0, 12)}, not ${expected.key.slice(0, 12)}`;
  const { kind, name } = manifest.component;
  if (!/^[a-z0-9_][a-z0-9_-]*$/.test(name)) return `component name '${name}' is not valid`;
  const component = expected.component;
  if (component && (component.name !== name || component.kind !== kind)) return `it holds ${kind} '${name}', not ${component.kind} '${component.name}'`;
  return rootsProblem(manifest) ?? pathsProblem(manifest) ?? symlinksProblem(manifest);
}

/** An entry may only write its own component's part of the install tree. */
function rootsProblem(manifest: Manifest): string | undefined {
  const { kind, name } = manifest.component;
  const dir = installDirOf(kind);
  if (dir) {
    if (manifest.roots.length !== 1 || manifest.roots[0] !== `${dir}/${name}`) return `a ${kind} may only install ${dir}/${name}`;
  } else if (kind === "core") {
    const reserved = new Set(Object.values(INSTALL_DIRS));
    const bad = manifest.roots.find((root) => root.includes("/") || !isSafeRelativePath(root) || reserved.has(root));
    if (bad !== undefined) return `core may not install '${bad}'`;
    if (new Set(manifest.roots).size !== manifest.roots.length) return "a root is listed twice";
  } else {
    return `unknown component kind '${kind}'`;
  }
  return undefined;
}

function listedTypes(manifest: Manifest): Array<[string, "file" | "dir" | "symlink"]> {
  return [
    ...manifest.files.map((f) => [f.path, "file"] as [string, "file"]),
    ...manifest.dirs.map((d) => [d.path, "dir"] as [string, "dir"]),
    ...manifest.symlinks.map((l) => [l.path, "symlink"] as [string, "symlink"]),
  ];
}

/** The directories above the roots: backends for backends/onnxruntime. */
function rootAncestors(roots: readonly string[]): string[] {
  return roots.flatMap((root) =>
    root
      .split("/")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
  );
}

const underRoot = (roots: readonly string[], p: string) => roots.find((root) => p === root || p.startsWith(`${root}/`));

function pathsProblem(manifest: Manifest): string | undefined {
  const listed = listedTypes(manifest);
  for (const [p] of listed) {
    if (!isSafeRelativePath(p)) return `unsafe path ${p}`;
    if (!underRoot(manifest.roots, p)) return `${p} is outside the component's part of the install tree`;
  }
  // Every directory some listed path lies under, made once: asked once per link, a scan of all
  // paths made the check quadratic (20,000 files and links took minutes, on every store and restore).
  const parents = parentPaths(listed.map(([p]) => p));
  for (const link of manifest.symlinks) {
    if (manifest.roots.includes(link.path)) return `root ${link.path} is a symlink`;
    if (parents.has(link.path)) return symlinkInPathProblem(link.path);
  }
  const seen = new Map<string, string>();
  for (const [p, type] of listed) {
    const earlier = seen.get(p);
    if (earlier) return earlier === type ? `${p} is listed twice` : `${p} is listed both as a ${earlier} and as a ${type}`;
    seen.set(p, type);
  }
  // Each root is in the entry, or a hit would restore nothing. Core's may be files: build.py
  // copies LICENSE and TRITON_VERSION into the install root (server@r24.05:build.py, core_build).
  for (const root of manifest.roots) {
    const type = seen.get(root);
    if (type === "dir" || (type === "file" && manifest.component.kind === "core")) continue;
    return `root ${root} is not listed as a directory${manifest.component.kind === "core" ? " or a file" : ""}`;
  }
  for (const item of [...manifest.files, ...manifest.dirs]) {
    if (!isPermissionMode(item.mode)) return `${item.path} has mode ${formatMode(item.mode)}: only permission bits (0o777) are allowed`;
  }
  for (const dir of manifest.dirs) {
    if ((dir.mode & OWNER_DIR_BITS) !== OWNER_DIR_BITS)
      return `${dir.path} has mode ${formatMode(dir.mode)}: a directory must be readable, writable and searchable by its owner (u+rwx)`;
  }
  for (const file of manifest.files) {
    if ((file.mode & OWNER_FILE_BITS) !== OWNER_FILE_BITS) return `${file.path} has mode ${formatMode(file.mode)}: a file must be readable by its owner (u+r)`;
  }
  for (const file of manifest.files) {
    if (!Number.isSafeInteger(file.size) || file.size < 0) return `${file.path} has an invalid size ${file.size}`;
    if (!/^[0-9a-f]{64}$/.test(file.sha256)) return `${file.path} has an invalid sha256`;
  }
  return undefined;
}

/** Every proper ancestor of the given paths: a/b and a for a/b/c. */
export function parentPaths(paths: Iterable<string>): Set<string> {
  const parents = new Set<string>();
  for (const p of paths) {
    for (let slash = p.lastIndexOf("/"); slash > 0; slash = p.lastIndexOf("/", slash - 1)) {
      const parent = p.slice(0, slash);
      // Its own ancestors were added with it.
      if (parents.has(parent)) break;
      parents.add(parent);
    }
  }
  return parents;
}

/**
 * Each symlink (none is a root or stands in the path of another entry) must resolve inside
 * the component's roots when followed as the kernel does: link by link, each `..` taken from
 * where the previous link led, not from the text of the path.
 */
function symlinksProblem(manifest: Manifest): string | undefined {
  const links = new Map(manifest.symlinks.map((l) => [l.path, l.target]));
  // The directories above the roots (the install root "", backends/ for backends/onnxruntime):
  // a link may pass through them on its way back into the roots, never end there.
  const ancestors = new Set(["", ...rootAncestors(manifest.roots)]);
  const where = manifest.roots.join(", ");
  for (const link of manifest.symlinks) {
    if (link.target === "") return `symlink ${link.path} has an empty target`;
    const resolved = resolveLink(link.path, links, (p) => ancestors.has(p) || underRoot(manifest.roots, p) !== undefined);
    if (resolved === "loop") return `symlink ${link.path} is a loop of links`;
    if (resolved === undefined || !underRoot(manifest.roots, resolved.join("/"))) return `symlink ${link.path} points outside ${where}`;
  }
  return undefined;
}

/**
 * Where the kernel ends up following the link at `linkPath`: a path as parts, undefined when a
 * step leaves the places `known` allows (outside the tree, or into a part the entry does not
 * own, whose links it cannot know), "loop" after too many links.
 */
function resolveLink(linkPath: string, links: ReadonlyMap<string, string>, known: (p: string) => boolean): string[] | "loop" | undefined {
  let follows = 0;
  const walk = (from: string[], target: string): string[] | "loop" | undefined => {
    if (target.startsWith("/")) return undefined;
    const current = [...from];
    for (const step of target.split("/")) {
      if (step === "" || step === ".") continue;
      if (step === "..") {
        if (current.length === 0) return undefined;
        current.pop();
      } else {
        current.push(step);
      }
      const here = current.join("/");
      if (!known(here)) return undefined;
      const next = links.get(here);
      if (next !== undefined) {
        if (++follows > MAX_LINK_FOLLOWS) return "loop";
        const resolved = walk(current.slice(0, -1), next);
        if (resolved === undefined || resolved === "loop") return resolved;
        current.splice(0, current.length, ...resolved);
      }
    }
    return current;
  };
  const parts = linkPath.split("/");
  return walk(parts.slice(0, -1), links.get(linkPath) ?? "");
}

/** Which names an entry directory may hold besides what the manifest lists. */
const ENTRY_TOP_LEVEL = new Set(["manifest.json", "files", "last-used"]);

/**
 * What is wrong with an entry on disk against its (already checked) manifest, or undefined.
 * `hashes`: also hash every file (restore hashes while it copies instead), except those in
 * `verified` whose stamp is still the one given there.
 */
export async function entryFilesProblem(
  entryDir: string,
  manifest: Manifest,
  options: { hashes: boolean; verified?: VerifiedFiles | undefined; signal?: AbortSignal | undefined },
): Promise<string | undefined> {
  const self = await lstat(entryDir).catch(() => undefined);
  if (!self?.isDirectory()) return self ? "the entry is not a directory" : "the entry is missing";
  for (const name of await readdir(entryDir)) {
    if (!ENTRY_TOP_LEVEL.has(name)) return `${name} beside manifest.json is not part of an entry`;
    const info = await lstat(path.join(entryDir, name));
    const wanted = name === "files" ? info.isDirectory() : info.isFile();
    if (!wanted) return `${name} is ${describeNode(info)}, not a ${name === "files" ? "directory" : "regular file"}`;
  }
  const filesDir = path.join(entryDir, "files");
  let present: TreeEntry[];
  try {
    present = await walkTree(filesDir, await readdir(filesDir).catch(() => [] as string[]));
  } catch (error) {
    return `files/ cannot be read: ${errorMessage(error)}`;
  }
  return treeProblem(present, manifest) ?? (options.hashes ? await hashProblem(filesDir, manifest, options.verified, options.signal) : undefined);
}

function describeNode(info: { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean }): string {
  if (info.isSymbolicLink()) return "a symlink";
  if (info.isDirectory()) return "a directory";
  if (info.isFile()) return "a regular file";
  return "a special file";
}

/** The tree under files/ against the manifest: types, special bits, modes, sizes, link targets, nothing missing or extra. */
function treeProblem(present: readonly TreeEntry[], manifest: Manifest): string | undefined {
  const special = present.find((entry) => entry.type === "other");
  if (special) return `${special.path} is a ${special.what}`;
  const privileged = present.find((entry) => (entry.type === "file" || entry.type === "dir") && (entry.mode & ~0o777) !== 0);
  if (privileged) return specialBitsProblem(privileged.path, privileged.mode);
  const listed = new Map<string, "file" | "dir" | "symlink">(listedTypes(manifest));
  // Directories above the roots (e.g. backends/ of backends/onnxruntime) hold nothing else.
  const ancestors = new Set(rootAncestors(manifest.roots));
  const expectedType = (p: string) => listed.get(p) ?? (ancestors.has(p) ? "dir" : undefined);
  const swapped = present.find((entry) => expectedType(entry.path) !== undefined && entry.type !== expectedType(entry.path));
  if (swapped) return `${swapped.path} is a ${swapped.type}, the manifest says ${expectedType(swapped.path)}`;
  const found = new Map(present.map((entry) => [entry.path, entry]));
  const missing = [...listed.keys()].find((p) => !found.has(p));
  if (missing) return `${missing} is missing`;
  const unlisted = present.find((entry) => expectedType(entry.path) === undefined);
  if (unlisted) return `${unlisted.path} is not in the manifest`;
  for (const file of manifest.files) {
    const entry = found.get(file.path);
    // Its permission bits may differ (a copy extracted under another umask): a restore writes the manifest's.
    if (entry?.size !== file.size) return `${file.path} has ${entry?.size} bytes, the manifest says ${file.size}`;
  }
  for (const link of manifest.symlinks) {
    const target = found.get(link.path)?.target;
    if (target !== link.target) return `symlink ${link.path} points to ${target}, the manifest says ${link.target}`;
  }
  return undefined;
}

/** How a symlink above another member of an entry is refused, whichever check finds it. */
export function symlinkInPathProblem(p: string): string {
  return `${p} is a symlink in the path of other files`;
}

/** How a file with setuid, setgid or sticky bits is refused, whichever check finds it. */
export function specialBitsProblem(p: string, mode: number): string {
  return `${p} has ${specialBits(mode)} (mode ${formatMode(mode)})`;
}

function specialBits(mode: number): string {
  const bits = [mode & 0o4000 ? "the setuid bit" : "", mode & 0o2000 ? "the setgid bit" : "", mode & 0o1000 ? "the sticky bit" : ""].filter(Boolean);
  return bits.join(" and ");
}

async function hashProblem(filesDir: string, manifest: Manifest, verified: VerifiedFiles | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const pace = eventLoopPacer();
  for (const file of manifest.files) {
    await pace();
    signal?.throwIfAborted();
    const problem = await fileHashProblem(filesDir, file, verified, signal);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

async function fileHashProblem(
  filesDir: string,
  file: Manifest["files"][number],
  verified: VerifiedFiles | undefined,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const stamp = verified?.get(file.path);
  if (stamp !== undefined) {
    // Any error here (ENOTDIR, EACCES, ELOOP) only means no stamp: the hash below says what is wrong.
    const now = (() => {
      try {
        return lstatSync(path.join(filesDir, file.path), { bigint: true, throwIfNoEntry: false });
      } catch {
        return undefined;
      }
    })();
    if (now && fileStamp(now) === stamp) return undefined;
  }
  const actual = await hashFile(path.join(filesDir, file.path), signal).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    return isNotRegularFile(error) ? ("not a file" as const) : undefined;
  });
  if (actual === "not a file") return `${file.path} is not a regular file`;
  if (!actual) return `${file.path} is missing`;
  if (actual.size !== file.size || actual.sha256 !== file.sha256) return `${file.path} does not match its sha256`;
  return undefined;
}
