import { createHash } from "node:crypto";
import { access, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { CommandError, EnvironmentError, errorMessage, firstErrorLine, SourceError } from "../errors.js";
import { fileSystemErrorCode, makeDirs, usingPath } from "../util/fs-errors.js";
import { withLock } from "../util/lock.js";
import { retry } from "../util/retry.js";
import * as gitCmd from "./git.js";
import { isRemoteSource } from "./url.js";

export interface SourceOptions {
  /** Cache dir; the mirror lives in `<cacheDir>/git/`. */
  cacheDir: string;
  /** Use the mirror as it is, without fetching (a local path without a mirror yet is still mirrored). */
  offline: boolean;
  signal?: AbortSignal;
  /** Attempts for a fetch that fails with a transient network error. */
  attempts?: number;
  onRetry?: (message: string) => void;
}

export interface ResolvedSource {
  url: string;
  ref: string;
  commit: string;
  mirrorDir: string;
}

export function mirrorDirFor(cacheDir: string, url: string): string {
  const slug =
    url
      .replace(/\.git$/, "")
      .split(/[/:]/)
      .filter(Boolean)
      .pop()
      ?.replace(/[^\w.-]/g, "_") ?? "repo";
  const hash = createHash("sha256").update(url).digest("hex").slice(0, 12);
  return path.join(cacheDir, "git", `${slug}-${hash}.git`);
}

/** Brings the mirror of `url` up to date (or only checks it exists, offline) and resolves `ref`. */
export async function resolveSource(url: string, ref: string, options: SourceOptions): Promise<ResolvedSource> {
  const mirrorDir = mirrorDirFor(options.cacheDir, url);
  const cacheDir = { what: "cache dir", path: options.cacheDir, option: "--cache-dir DIR" };
  await usingPath(cacheDir, () => withLock(`${mirrorDir}.update`, () => updateMirror(url, mirrorDir, options), { signal: options.signal }));
  const commit = await resolveRefInMirror(mirrorDir, ref, url);
  return { url, ref, commit, mirrorDir };
}

async function updateMirror(url: string, mirrorDir: string, options: SourceOptions): Promise<void> {
  const exists = await isDirectory(mirrorDir);
  // Offline, a local path can still be mirrored: reading it needs no network.
  if (options.offline && (exists || isRemoteSource(url))) {
    if (!exists) {
      throw new SourceError(
        `--offline: there is no local mirror of ${url} yet`,
        "run once without --offline to create it, or pass --source with a local path to the server repository",
      );
    }
    return;
  }
  if (!exists && !isRemoteSource(url) && !(await pathExists(url))) {
    throw new SourceError(`source ${url} does not exist`, "pass --source with a git URL or the path of a server repository checkout");
  }
  const target = exists ? mirrorDir : `${mirrorDir}.tmp-${process.pid}-${Date.now()}`;
  if (!exists) await makeDirs(path.dirname(mirrorDir));
  try {
    if (!exists) await gitCmd.initBareMirror(target, url, { signal: options.signal });
    await retry(() => gitCmd.fetchMirror(target, { signal: options.signal, blockTimeoutMs: 5 * 60_000 }), {
      attempts: options.attempts ?? 3,
      isRetryable: (error) => isTransientGitError(error),
      onRetry: (error, attempt, delayMs) =>
        options.onRetry?.(`fetching ${url} failed (${firstErrorLine(error)}); retry ${attempt} in ${Math.round(delayMs / 1000)} s`),
      signal: options.signal,
    });
    // Rename last, so a mirror directory is only ever a complete one.
    if (!exists) await rename(target, mirrorDir);
  } catch (error) {
    if (!exists) await rm(target, { recursive: true, force: true });
    if (options.signal?.aborted) throw error;
    throw classifyFetchError(url, error);
  }
}

async function resolveRefInMirror(mirrorDir: string, ref: string, url: string): Promise<string> {
  try {
    return await findRef(mirrorDir, ref, url);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new EnvironmentError(
      `the git mirror of ${url} at ${mirrorDir} is damaged: ${firstErrorLine(error)}`,
      `remove it (rm -rf ${mirrorDir}); the next run without --offline creates it again from the source`,
      error,
    );
  }
}

async function findRef(mirrorDir: string, ref: string, url: string): Promise<string> {
  const candidates = /^[0-9a-f]{7,40}$/.test(ref) ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`, ref];
  for (const candidate of candidates) {
    const commit = await gitCmd.revParseCommit(mirrorDir, candidate);
    if (commit) return commit;
  }
  const releaseBranches = (await gitCmd.listRefs(mirrorDir, "refs/heads/r2*")).slice(-5);
  throw new SourceError(
    `ref '${ref}' not found in ${url}`,
    releaseBranches.length
      ? `pass --ref with a branch, tag or commit of that repository; recent release branches there: ${releaseBranches.join(", ")}`
      : "pass --ref with a branch, tag or commit of that repository",
  );
}

const TRANSIENT = [
  /could not resolve host/i,
  /connection (timed out|reset|refused)/i,
  /operation timed out/i,
  /early eof/i,
  /rpc failed/i,
  /unexpected disconnect/i,
  /the remote end hung up/i,
  /temporary failure/i,
  /http\/2 stream/i,
  /\b50[234]\b/,
  /block timeout/i,
];

export function isTransientGitError(error: unknown): boolean {
  const text = error instanceof CommandError ? error.tail.join("\n") : errorMessage(error);
  return TRANSIENT.some((pattern) => pattern.test(text));
}

function classifyFetchError(url: string, error: unknown): unknown {
  // A full disk or an unwritable cache dir is the cache dir's problem (resolveSource names it).
  if (fileSystemErrorCode(error)) return error;
  const message = firstErrorLine(error);
  if (isTransientGitError(error)) {
    return new EnvironmentError(
      `cannot reach source ${url}: ${message}`,
      "check the network or proxy; with a mirror from an earlier run, --offline builds from it as it is",
      error,
    );
  }
  return new SourceError(
    `cannot read source ${url}: ${message}`,
    "check --source: it must be a git URL or the path of a server repository that you can clone",
    error,
  );
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function pathExists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/**
 * A checkout of one run: the tree at the resolved commit, without .git (so the same commit gives
 * the same Docker build context), or a real clone when git must work in it (submodules, LFS).
 */
export async function checkoutSource(source: ResolvedSource, dest: string, options: { signal?: AbortSignal; withGit?: boolean } = {}): Promise<void> {
  await usingPath({ what: "checkout directory", path: dest, option: "--work-dir DIR" }, () => writeCheckout(source, dest, options));
}

async function writeCheckout(source: ResolvedSource, dest: string, options: { signal?: AbortSignal; withGit?: boolean }): Promise<void> {
  await rm(dest, { recursive: true, force: true });
  const gitOptions = options.signal ? { signal: options.signal } : {};
  if (options.withGit) {
    await makeDirs(path.dirname(dest));
    await gitCmd.checkoutShared(source.mirrorDir, source.commit, dest, gitOptions);
    return;
  }
  await makeDirs(dest);
  await gitCmd.exportTree(source.mirrorDir, source.commit, dest, gitOptions);
}
