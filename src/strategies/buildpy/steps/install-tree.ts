import { chmod, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { CmakeBuildScript } from "../../../buildpy/cmake-build.js";

/**
 * Puts restored components into the install tree and gives them what build.py's last line gives
 * compiled ones, so an image does not depend on which components came from the cache.
 */

/** Moves restored components into the install tree (renames on one file system: instant). */
export async function moveRestoredRoots(fromRoot: string, toRoot: string, roots: readonly string[]): Promise<void> {
  for (const root of roots) {
    const source = path.join(fromRoot, root);
    if (
      !(await lstat(source).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const destination = path.join(toRoot, root);
    await mkdir(path.dirname(destination), { recursive: true });
    await rm(destination, { recursive: true, force: true });
    await rename(source, destination);
  }
}

/** Whether cmake_build ends with build.py's `chmod -R a+rw` of the install tree (r24.05 does). */
export function opensInstallTree(script: CmakeBuildScript, containerInstallDir = "/tmp/tritonbuild/install"): boolean {
  return script.chunks.some((chunk) => chunk.type === "lines" && chunk.lines.some((line) => line.trim() === `chmod -R a+rw ${containerInstallDir}`));
}

/**
 * `chmod -R a+rw DIR` on the host: read and write for everyone on every file and directory,
 * symlinks left alone (as chmod -R does). A component restored from an entry stored by a run that
 * failed later never got the builder's chmod, and directories made by the restore have the
 * umask's mode; after this the tree is as a build from scratch leaves it.
 */
export async function addReadWriteForAll(dir: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info || info.isSymbolicLink()) return;
  if ((info.mode & 0o666) !== 0o666) await chmod(dir, (info.mode & 0o7777) | 0o666);
  if (!info.isDirectory()) return;
  for (const name of await readdir(dir)) await addReadWriteForAll(path.join(dir, name));
}
