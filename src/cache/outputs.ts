import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { INSTALL_DIRS, installDirOf } from "../buildpy/cmake-build.js";
import { eventLoopPacer } from "../util/pace.js";

/**
 * Which paths of the merged install tree a component contributes: `backends/<name>`,
 * `repoagents/<name>`, `caches/<name>`, and for core everything else.
 */

const NOT_CORE = new Set(Object.values(INSTALL_DIRS));

/** Top-level output paths (relative to the install root) of a component, given what the tree holds. */
export async function outputRoots(kind: string, name: string, installRoot: string): Promise<string[]> {
  const dir = installDirOf(kind);
  if (dir) {
    const root = `${dir}/${name}`;
    return (await exists(path.join(installRoot, root))) ? [root] : [];
  }
  if (kind !== "core") return [];
  const entries = await readdir(installRoot).catch(() => [] as string[]);
  return entries.filter((entry) => !NOT_CORE.has(entry)).sort();
}

export interface TreeEntry {
  path: string;
  /** "other": a device node, FIFO or socket (`what` says which). */
  type: "file" | "symlink" | "dir" | "other";
  size: number;
  /** Permission and special bits (setuid, setgid, sticky). */
  mode: number;
  target?: string;
  what?: string;
}

/**
 * Every node under the given roots, sorted, paths relative to `base`; links are not followed.
 * Callers decide what to do with "other" nodes (a store leaves them out, a check refuses them).
 */
export async function walkTree(base: string, roots: readonly string[]): Promise<TreeEntry[]> {
  // Synchronous calls, paced: a promise per lstat made the walk most of the cost of checking an entry of many small files.
  const pace = eventLoopPacer();
  const entries: TreeEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    await pace();
    const absolute = path.join(base, relative);
    const info = lstatSync(absolute);
    if (info.isSymbolicLink()) {
      entries.push({ path: relative, type: "symlink", size: 0, mode: 0o777, target: readlinkSync(absolute) });
    } else if (info.isDirectory()) {
      entries.push({ path: relative, type: "dir", size: 0, mode: info.mode & 0o7777 });
      for (const child of readdirSync(absolute).sort()) await visit(path.posix.join(relative, child));
    } else if (info.isFile()) {
      entries.push({ path: relative, type: "file", size: info.size, mode: info.mode & 0o7777 });
    } else {
      entries.push({ path: relative, type: "other", size: 0, mode: info.mode & 0o7777, what: nodeKind(info) });
    }
  };
  for (const root of roots) await visit(root);
  return entries;
}

function nodeKind(info: Stats): string {
  if (info.isCharacterDevice()) return "character device";
  if (info.isBlockDevice()) return "block device";
  if (info.isFIFO()) return "FIFO";
  if (info.isSocket()) return "socket";
  return "special file";
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}
