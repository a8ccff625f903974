import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError, SourceError } from "../errors.js";
import { retry } from "../util/retry.js";
import { isTransientGitError, mirrorDirFor, resolveSource } from "./mirror.js";
import { isRemoteSource, normalizeSourceUrl } from "./url.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-mirror-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function gitRepo(name: string): { path: string; commit: string } {
  const repo = path.join(dir, name);
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: repo, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } })
      .toString()
      .trim();
  execFileSync("git", ["init", "-q", "-b", "r24.05", repo]);
  execFileSync("sh", ["-c", `echo 2.46.0 > ${repo}/TRITON_VERSION`]);
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
  git("tag", "v2.46.0");
  return { path: repo, commit: git("rev-parse", "HEAD") };
}

describe("resolveSource", () => {
  it("mirrors a repository and resolves branches, tags and commits", async () => {
    const repo = gitRepo("server");
    const options = { cacheDir: path.join(dir, "cache"), offline: false };
    expect((await resolveSource(repo.path, "r24.05", options)).commit).toBe(repo.commit);
    expect((await resolveSource(repo.path, "v2.46.0", options)).commit).toBe(repo.commit);
    expect((await resolveSource(repo.path, repo.commit.slice(0, 10), options)).commit).toBe(repo.commit);
    expect((await resolveSource(repo.path, "r24.05", { ...options, offline: true })).mirrorDir).toBe(mirrorDirFor(options.cacheDir, repo.path));
  });

  it("offline, a local path without a mirror yet is mirrored (no network needed)", async () => {
    const repo = gitRepo("server");
    const source = await resolveSource(repo.path, "r24.05", { cacheDir: path.join(dir, "cache"), offline: true });
    expect(source.commit).toBe(repo.commit);
  });

  it("a damaged mirror is an environment error, not a missing ref", async () => {
    const repo = gitRepo("server");
    const options = { cacheDir: path.join(dir, "cache"), offline: true };
    const { mirrorDir } = await resolveSource(repo.path, "r24.05", options);
    await rm(path.join(mirrorDir, "HEAD"));
    const error = await resolveSource(repo.path, "r24.05", options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(`the git mirror of ${repo.path} at ${mirrorDir} is damaged: fatal: not a git repository`);
  });

  it("a missing ref names the ref and the source", async () => {
    const repo = gitRepo("server");
    await expect(resolveSource(repo.path, "r99.01", { cacheDir: path.join(dir, "cache"), offline: false })).rejects.toThrow(
      `ref 'r99.01' not found in ${repo.path}`,
    );
  });

  it("offline without a mirror, and a path that does not exist, are source errors", async () => {
    await expect(resolveSource(path.join(dir, "nope"), "r24.05", { cacheDir: path.join(dir, "cache"), offline: true })).rejects.toThrow(SourceError);
    await expect(resolveSource(path.join(dir, "nope"), "r24.05", { cacheDir: path.join(dir, "cache"), offline: false })).rejects.toThrow(/does not exist/);
    const notARepo = path.join(dir, "plain");
    await writeFile(notARepo, "x");
    await expect(resolveSource(notARepo, "r24.05", { cacheDir: path.join(dir, "cache"), offline: false, attempts: 1 })).rejects.toThrow(SourceError);
  });

  it("an scp-style SSH URL is fetched, not checked for as a local path", async () => {
    const error = await resolveSource("git@host.invalid:org/server.git", "r24.05", { cacheDir: path.join(dir, "cache"), offline: false, attempts: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain("cannot reach source git@host.invalid:org/server.git");
    expect((error as Error).message).not.toContain("does not exist");
  });

  it("a cache dir that is a file is an environment error naming it", async () => {
    const repo = gitRepo("server");
    const file = path.join(dir, "F");
    await writeFile(file, "");
    const error = await resolveSource(repo.path, "r24.05", { cacheDir: file, offline: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(`cannot use the cache dir ${file}: a file stands where a directory is needed`);
  });

  it("an unreachable host is retried, then an environment error", async () => {
    const retries: string[] = [];
    const error = await resolveSource("https://git.invalid/server.git", "r24.05", {
      cacheDir: path.join(dir, "cache"),
      offline: false,
      attempts: 2,
      onRetry: (m) => retries.push(m),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(retries).toHaveLength(1);
  });
});

describe("helpers", () => {
  it("classifies transient git errors", () => {
    expect(isTransientGitError(new Error("fatal: unable to access 'https://x/': Could not resolve host: x"))).toBe(true);
    expect(isTransientGitError(new Error("error: RPC failed; curl 56 GnuTLS recv error"))).toBe(true);
    expect(isTransientGitError(new Error("fatal: repository 'https://x/y' not found"))).toBe(false);
  });

  it("normalises local paths and keeps URLs", () => {
    expect(normalizeSourceUrl("../srv/server", "/home/u/work")).toBe("/home/u/srv/server");
    expect(normalizeSourceUrl("https://github.com/triton-inference-server/server")).toBe("https://github.com/triton-inference-server/server");
    expect(normalizeSourceUrl("git@github.com:org/server.git")).toBe("git@github.com:org/server.git");
  });

  it("tells remote sources from local paths", () => {
    expect(["git@github.com:org/server.git", "ssh://git@host/server", "https://h/s", "file:///srv/server"].map(isRemoteSource)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["/srv/server", "../server", "server.git", "./a@b:c"].map(isRemoteSource)).toEqual([false, false, false, false]);
  });

  it("retry retries only retryable errors, with backoff", async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new Error("early EOF");
        return "ok";
      },
      { attempts: 3, isRetryable: isTransientGitError, baseDelayMs: 1 },
    );
    expect([result, calls]).toEqual(["ok", 3]);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error("not found");
        },
        { attempts: 3, isRetryable: isTransientGitError, baseDelayMs: 1 },
      ),
    ).rejects.toThrow("not found");
    expect(calls).toBe(1);
  });
});
