import { execa } from "execa";
import { simpleGit, type SimpleGit } from "simple-git";

/**
 * The git adapter: one small function per git command, all through simple-git, each taking the
 * directory it works in and an AbortSignal. Callers decide what a failure means.
 */

export interface GitOptions {
  signal?: AbortSignal;
  /** Milliseconds without output after which git is killed (a stalled network fetch). */
  blockTimeoutMs?: number;
}

function git(baseDir: string | undefined, options: GitOptions): SimpleGit {
  return simpleGit({
    ...(baseDir ? { baseDir } : {}),
    ...(options.signal ? { abort: options.signal } : {}),
    ...(options.blockTimeoutMs ? { timeout: { block: options.blockTimeoutMs } } : {}),
  });
}

/** A bare repository that fetches only branches and tags (not GitHub's pull-request refs). */
export async function initBareMirror(dir: string, url: string, options: GitOptions = {}): Promise<void> {
  const repo = git(undefined, options);
  await repo.raw(["init", "--bare", "--quiet", dir]);
  const mirror = git(dir, options);
  await mirror.raw(["remote", "add", "origin", url]);
  await mirror.raw(["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"]);
  await mirror.raw(["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"]);
}

/**
 * `--progress` (not `--quiet`): git then reports progress on stderr even into a pipe, so the
 * block timeout measures a stall, not the whole transfer. The progress is dropped from the
 * error message of a failed fetch.
 */
export async function fetchMirror(dir: string, options: GitOptions = {}): Promise<void> {
  try {
    await git(dir, options).raw(["fetch", "--prune", "--prune-tags", "--force", "--progress", "origin"]);
  } catch (error) {
    if (error instanceof Error) error.message = withoutProgress(error.message);
    throw error;
  }
}

const PROGRESS_LINE = /^(remote: )?(Enumerating|Counting|Compressing|Receiving|Resolving|Unpacking|Total|Checking connectivity)\b/;

/** git's stderr without its progress lines (separated by carriage returns); errors stay. */
export function withoutProgress(stderr: string): string {
  return stderr
    .split(/\r\n|\r|\n/)
    .filter((line) => !PROGRESS_LINE.test(line.trim()))
    .join("\n");
}

/**
 * The commit a ref names in a local repository, or undefined when it names none. Any other
 * failure (not a repository, a damaged one) is thrown: it is not a missing ref.
 */
export async function revParseCommit(dir: string, ref: string, options: GitOptions = {}): Promise<string | undefined> {
  try {
    // --quiet: a ref that names no commit exits non-zero without a message, which simple-git
    // returns as empty output.
    const out = await git(dir, options).raw(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
    return out.trim() || undefined;
  } catch (error) {
    if (/unknown revision|bad revision|needed a single revision/i.test(String((error as Error)?.message))) return undefined;
    throw error;
  }
}

export async function listRefs(dir: string, pattern: string, options: GitOptions = {}): Promise<string[]> {
  const out = await git(dir, options).raw(["for-each-ref", "--format=%(refname:short)", pattern]);
  return out.split("\n").filter(Boolean);
}

/**
 * Git LFS switched off for one command, whatever the system's or user's git config says (Debian's
 * git-lfs package registers `filter.lfs.*` system-wide with `required = true`; `git lfs install`
 * does it per user): an empty filter command passes the stored blob (the pointer) through, and
 * `required = false` lets it. No git-lfs process runs, so no LFS object is downloaded or needed:
 * the server's LFS files (two doc images) are not part of any build. A checkout that does need
 * LFS files pulls them explicitly (lfsPull).
 */
export const WITHOUT_LFS = ["-c", "filter.lfs.smudge=", "-c", "filter.lfs.process=", "-c", "filter.lfs.required=false"];

/** The same for a git-lfs found by other means (an older git-lfs reads this variable). */
const WITHOUT_LFS_ENV = { GIT_LFS_SKIP_SMUDGE: "1" };

/** A working copy that borrows the mirror's objects, detached at one commit; LFS files stay pointers. */
export async function checkoutShared(mirrorDir: string, commit: string, dest: string, options: GitOptions = {}): Promise<void> {
  await git(undefined, options).raw(["clone", "--shared", "--no-checkout", "--quiet", mirrorDir, dest]);
  await git(dest, options)
    .env({ ...process.env, ...WITHOUT_LFS_ENV })
    .raw([...WITHOUT_LFS, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit]);
}

/** A git or tar command of the checkout failed; `stderr` is its message. */
export class CheckoutCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command} failed: ${stderr}`);
  }
}

/**
 * The tree of one commit, written to `dest` without a .git directory (`git archive | tar -x`),
 * LFS files as their pointers (WITHOUT_LFS). Files get the commit's time, so the same commit
 * always gives the same build context and Docker's layer cache holds across runs.
 */
export async function exportTree(mirrorDir: string, commit: string, dest: string, options: GitOptions = {}): Promise<void> {
  const archive = execa("git", [...WITHOUT_LFS, "--git-dir", mirrorDir, "archive", "--format=tar", commit], {
    reject: false,
    cancelSignal: options.signal,
    env: WITHOUT_LFS_ENV,
    buffer: { stdout: false, stderr: true },
  });
  const extracted = await archive.pipe("tar", ["-x", "-C", dest], { reject: false, cancelSignal: options.signal });
  const archived = await archive;
  if (archived.isCanceled || extracted.isCanceled) throw options.signal?.reason ?? new Error("export cancelled");
  if (archived.exitCode !== 0) throw new CheckoutCommandError(`git archive ${commit}`, String(archived.stderr).trim());
  if (extracted.exitCode !== 0) throw new CheckoutCommandError(`tar -x into ${dest}`, String(extracted.stderr).trim());
}

/**
 * `git ls-remote URL REF`: the commit a branch or tag names on a remote, peeled for annotated
 * tags; undefined when the remote has no such ref. A branch wins over a tag of the same name, as
 * in `git clone -b REF` (what build.py runs): the key must name the commit that gets built.
 */
export async function lsRemote(url: string, ref: string, options: GitOptions = {}): Promise<string | undefined> {
  const out = await git(undefined, options).listRemote([url, ref, `${ref}^{}`]);
  const rows = out
    .split("\n")
    .map((line) => line.split("\t"))
    .filter((cols): cols is [string, string] => cols.length === 2);
  const exact = (name: string) => rows.find(([, refName]) => refName === name)?.[0];
  return (
    exact(`refs/heads/${ref}`) ??
    exact(`refs/tags/${ref}^{}`) ??
    exact(`refs/tags/${ref}`) ??
    exact(`refs/${ref}`) ??
    exact(ref) ??
    (/^[0-9a-f]{40}$/.test(ref) ? ref : undefined)
  );
}

export async function updateSubmodules(dir: string, options: GitOptions = {}): Promise<void> {
  await git(dir, options).raw(["submodule", "update", "--init", "--recursive"]);
}

/** `git lfs pull`; needs git-lfs installed (doctor checks it). */
export async function lfsPull(dir: string, options: GitOptions = {}): Promise<void> {
  await git(dir, options).raw(["lfs", "pull"]);
}

/** `git --version`, e.g. "2.39.5"; undefined when git is missing. */
export async function gitVersion(): Promise<string | undefined> {
  try {
    return /(\d+\.\d+[\w.]*)/.exec(await simpleGit().raw(["--version"]))?.[1];
  } catch {
    return undefined;
  }
}

/** `git lfs version`, e.g. "3.3.0"; undefined when git-lfs is not installed. */
export async function gitLfsVersion(): Promise<string | undefined> {
  try {
    return /git-lfs\/(\S+)/.exec(await simpleGit().raw(["lfs", "version"]))?.[1];
  } catch {
    return undefined;
  }
}
