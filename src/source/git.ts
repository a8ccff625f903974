import { execa } from "execa";
import { GitError, simpleGit, type SimpleGit } from "simple-git";
import { cancellation, GitCommandError, TarCommandError } from "../errors.js";
import { brokenPipe } from "../util/process.js";

/**
 * The git adapter: one small function per git command, all through simple-git, each taking the
 * directory it works in and an AbortSignal. A failed command is a GitCommandError (its arguments
 * and git's last lines); callers decide what a failure means.
 */

export interface GitOptions {
  signal?: AbortSignal;
  /** Milliseconds without output after which git is killed (a stalled network fetch). */
  blockTimeoutMs?: number;
}

function git(baseDir: string | undefined, options: GitOptions): SimpleGit {
  return simpleGit({
    // simple-git drops every GIT_* variable it inherits unless allowed. Keep the one main.ts sets
    // (git never asks for a user name or password) and the user's own ssh command (a CI job's
    // deploy key for an ssh --source or organisation): it is this user's, as the git they run is.
    allowEnvironment: ["GIT_TERMINAL_PROMPT", "GIT_SSH_COMMAND", "GIT_SSH"],
    unsafe: { allowUnsafeSshCommand: true },
    ...(baseDir ? { baseDir } : {}),
    ...(options.signal ? { abort: options.signal } : {}),
    ...(options.blockTimeoutMs ? { timeout: { block: options.blockTimeoutMs } } : {}),
  });
}

/**
 * `git ARGS` in `baseDir`. simple-git's GitError (its message is git's stderr) becomes a
 * GitCommandError; `output` may first drop lines that say nothing (fetch progress).
 */
async function run(baseDir: string | undefined, args: string[], options: GitOptions, output: (stderr: string) => string = (stderr) => stderr): Promise<string> {
  try {
    return await git(baseDir, options).raw(args);
  } catch (error) {
    if (options.signal?.aborted) throw cancellation(options.signal, `git ${args[0] ?? ""}`);
    if (error instanceof GitError) throw new GitCommandError(args, { status: undefined, output: output(error.message) }, error);
    throw error;
  }
}

/**
 * A repository or ref that starts with '-' is an option to git (`--exec=CMD` runs a command for
 * ls-remote and clone): refused here whatever the caller checked, so no value can become one.
 */
function refuseOptionLike(args: readonly string[], ...values: string[]): void {
  const bad = values.find((value) => value.startsWith("-"));
  if (bad !== undefined)
    throw new GitCommandError(args, { status: undefined, output: `refused: ${JSON.stringify(bad)} starts with '-', which git would read as an option` });
}

/** A bare repository that fetches only branches and tags (not GitHub's pull-request refs). */
export async function initBareMirror(dir: string, url: string, options: GitOptions = {}): Promise<void> {
  refuseOptionLike(["init", "--bare", dir, url], url);
  await run(undefined, ["init", "--bare", "--quiet", dir], options);
  await run(dir, ["remote", "add", "origin", url], options);
  await run(dir, ["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"], options);
  await run(dir, ["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"], options);
}

/**
 * `--progress` (not `--quiet`): git then reports progress on stderr even into a pipe, so the
 * block timeout measures a stall, not the whole transfer. The progress is dropped from the
 * error message of a failed fetch.
 */
export async function fetchMirror(dir: string, options: GitOptions = {}): Promise<void> {
  await run(dir, ["fetch", "--prune", "--prune-tags", "--force", "--progress", "origin"], options, withoutProgress);
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
    const out = await run(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], options);
    return out.trim() || undefined;
  } catch (error) {
    if (error instanceof GitCommandError && /unknown revision|bad revision|needed a single revision/i.test(error.tail.join("\n"))) return undefined;
    throw error;
  }
}

export async function listRefs(dir: string, pattern: string, options: GitOptions = {}): Promise<string[]> {
  const out = await run(dir, ["for-each-ref", "--format=%(refname:short)", pattern], options);
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

/** The same for a git-lfs run by other means (git-lfs reads this variable). */
const WITHOUT_LFS_ENV = { GIT_LFS_SKIP_SMUDGE: "1" };

/** A working copy that borrows the mirror's objects, detached at one commit; LFS files stay pointers. */
export async function checkoutShared(mirrorDir: string, commit: string, dest: string, options: GitOptions = {}): Promise<void> {
  await run(undefined, ["clone", "--shared", "--no-checkout", "--quiet", mirrorDir, dest], options);
  await run(dest, [...WITHOUT_LFS, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], options);
}

/**
 * The tree of one commit, written to `dest` without a .git directory (`git archive | tar -x`),
 * LFS files as their pointers (WITHOUT_LFS). Files get the commit's time, so the same commit
 * always gives the same build context and Docker's layer cache holds across runs.
 */
export async function exportTree(mirrorDir: string, commit: string, dest: string, options: GitOptions = {}): Promise<void> {
  const archiveArgs = ["archive", "--format=tar", commit];
  const tarArgs = ["-x", "-C", dest];
  const archive = execa("git", [...WITHOUT_LFS, "--git-dir", mirrorDir, ...archiveArgs], {
    reject: false,
    cancelSignal: options.signal,
    env: WITHOUT_LFS_ENV,
    buffer: { stdout: false, stderr: true },
  });
  const extracted = await archive.pipe("tar", tarArgs, { reject: false, cancelSignal: options.signal });
  const archived = await archive;
  if (archived.isCanceled || extracted.isCanceled) throw cancellation(options.signal, "git archive");
  const archiveFailed = () => new GitCommandError(archiveArgs, { status: archived.exitCode, output: String(archived.stderr ?? "") });
  // When tar cannot write (a full disk), git archive fails only on the broken pipe: tar's is the error to report.
  if (archived.exitCode !== 0 && !brokenPipe(String(archived.stderr ?? ""), archived.signal)) throw archiveFailed();
  if (extracted.exitCode !== 0) throw new TarCommandError(tarArgs, { status: extracted.exitCode, output: String(extracted.stderr ?? ""), directory: dest });
  if (archived.exitCode !== 0) throw archiveFailed();
}

/**
 * `git ls-remote URL REF`: the commit a branch or tag names on a remote, peeled for annotated
 * tags; undefined when the remote has no such ref. A branch wins over a tag of the same name, as
 * in `git clone -b REF` (what build.py runs): the key must name the commit that gets built.
 */
export async function lsRemote(url: string, ref: string, options: GitOptions = {}): Promise<string | undefined> {
  refuseOptionLike(["ls-remote", url, ref], url, ref);
  const out = await run(undefined, ["ls-remote", url, ref, `${ref}^{}`], options);
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
  await run(dir, ["submodule", "update", "--init", "--recursive"], options);
}

/** `git lfs pull`; needs git-lfs installed (doctor checks it). */
export async function lfsPull(dir: string, options: GitOptions = {}): Promise<void> {
  await run(dir, ["lfs", "pull"], options);
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
