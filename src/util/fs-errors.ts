import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { CommandError, EnvironmentError, TarCommandError } from "../errors.js";

/**
 * A file-system failure in a directory the user chose (cache dir, work dir, config dir) is a
 * problem of this machine, not a bug: `usingPath` turns it into an EnvironmentError that names
 * the directory, what went wrong and how to fix it. Other errors pass through unchanged.
 */

/** The directory a step works in, and the option or variable that chooses it. */
export interface PathRole {
  /** e.g. "cache dir", "work dir". */
  what: string;
  path: string;
  /** How the user picks another, e.g. "--cache-dir DIR". */
  option?: string;
}

const PROBLEMS: Record<string, { problem: string; fix: string }> = {
  ENOTDIR: { problem: "a file stands where a directory is needed", fix: "it must be a directory (or not exist yet)" },
  EEXIST: { problem: "it exists and is not a directory", fix: "it must be a directory (or not exist yet)" },
  EISDIR: { problem: "a directory stands where a file is needed", fix: "remove that directory" },
  EACCES: { problem: "permission denied", fix: "give this user access to it" },
  EPERM: { problem: "operation not permitted", fix: "give this user access to it (and check it is not immutable: lsattr)" },
  EROFS: { problem: "the file system is read-only", fix: "use a writable file system" },
  ENOSPC: { problem: "no space left on the device", fix: "free disk space there" },
  EDQUOT: { problem: "the disk quota is exceeded", fix: "free disk space there" },
  ENAMETOOLONG: { problem: "a path is too long", fix: "use a shorter path" },
  ELOOP: { problem: "too many levels of symbolic links", fix: "fix the symbolic links in that path" },
  EMFILE: { problem: "too many open files", fix: "raise the open-file limit (ulimit -n)" },
  ENFILE: { problem: "too many open files in the system", fix: "raise the system's open-file limit" },
  EIO: { problem: "an input/output error", fix: "check the disk" },
};

/**
 * A child process's own report of a file-system failure (git, tar), which carries no errno code.
 * "Permission denied" counts only from tar, which says it of the files it writes; from git it can
 * be a server refusing a key.
 */
const FAILURE_TEXT: Array<{ code: string; pattern: RegExp; tarOnly?: boolean }> = [
  { code: "ENOSPC", pattern: /No space left on device/i },
  { code: "EDQUOT", pattern: /Disk quota exceeded/i },
  { code: "EROFS", pattern: /Read-only file system/i },
  { code: "EACCES", pattern: /Permission denied/i, tarOnly: true },
];

/** The errno code of a file-system failure; undefined for any other error (spawn failures included). */
export function fileSystemErrorCode(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  if (!(e instanceof Error)) return undefined;
  if (typeof e.code === "string" && typeof e.syscall === "string" && !e.syscall.startsWith("spawn") && e.code in PROBLEMS) return e.code;
  const text = error instanceof CommandError ? `${e.message}\n${error.tail.join("\n")}` : e.message;
  return FAILURE_TEXT.find((failure) => (!failure.tarOnly || error instanceof TarCommandError) && failure.pattern.test(text))?.code;
}

/** The EnvironmentError for a file-system failure in `role`'s directory; other errors unchanged. */
export function pathError(error: unknown, role: PathRole): unknown {
  const code = fileSystemErrorCode(error);
  if (!code || error instanceof EnvironmentError) return error;
  const { problem, fix } = PROBLEMS[code] ?? { problem: code, fix: "check it" };
  const e = error as NodeJS.ErrnoException;
  const detail = e.syscall ? `${code}: ${e.syscall}${e.path ? ` ${e.path}` : ""}` : code;
  return new EnvironmentError(
    `cannot use the ${role.what} ${role.path}: ${problem} (${detail})`,
    role.option ? `${fix}, or choose another with ${role.option}` : fix,
    error,
  );
}

/**
 * A file-system failure no step mapped to its directory (a log, a report, a cache file written
 * somewhere unexpected): an EnvironmentError naming the path it happened at. undefined for other
 * errors, and for failures that name no path.
 */
export function unmappedPathError(error: unknown): EnvironmentError | undefined {
  if (error instanceof EnvironmentError || !fileSystemErrorCode(error)) return undefined;
  const where = error instanceof CommandError ? error.directory : (error as NodeJS.ErrnoException).path;
  if (!where) return undefined;
  return pathError(error, { what: error instanceof CommandError ? "directory" : "path", path: where }) as EnvironmentError;
}

/** Runs `fn`, which works in `role`'s directory, mapping its file-system failures (see pathError). */
export async function usingPath<T>(role: PathRole, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw pathError(error, role);
  }
}

/** Creates `role`'s directory (and its parents) if needed; returns its path. */
export async function makeDirectory(role: PathRole): Promise<string> {
  await usingPath(role, () => makeDirs(role.path));
  return role.path;
}

/**
 * `mkdir -p` that fails with the real reason. Node's recursive mkdir says ENOENT when the
 * directory cannot be made on a read-only file system (EROFS) and in other cases; the first
 * missing directory is then made on its own, which fails with the kernel's own error.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    let missing = path.resolve(dir);
    for (let parent = path.dirname(missing); parent !== missing && !(await exists(parent)); parent = path.dirname(missing)) missing = parent;
    await mkdir(missing);
    await mkdir(dir, { recursive: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
