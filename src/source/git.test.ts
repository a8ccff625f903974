import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitCommandError, TarCommandError } from "../errors.js";
import { exportTree, fetchMirror, initBareMirror, lsRemote, revParseCommit, withoutProgress } from "./git.js";
import { isTransientGitError } from "./mirror.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-git-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const FIXTURE = new URL("../../test/fixtures/git/fetch-progress-early-eof.stderr", import.meta.url);

/**
 * A repository of incompressible files, so its pack takes a while through a slow pipe. Above
 * 100 objects (fetch.unpackLimit) git reports "Receiving objects" as the pack arrives.
 */
function sourceRepo(files: number): string {
  const repo = path.join(dir, "src");
  execFileSync("git", ["init", "-q", repo]);
  execFileSync("sh", ["-c", `for i in $(seq 1 ${files}); do head -c 3000 /dev/urandom > f$i; done`], { cwd: repo });
  execFileSync("git", ["add", "."], { cwd: repo });
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], { cwd: repo });
  return repo;
}

/** A mirror whose fetches go through `wrapper` instead of git-upload-pack (slow or stalled networks). */
async function mirrorThrough(source: string, wrapper: string): Promise<string> {
  const script = path.join(dir, "upload-pack");
  await writeFile(script, `#!/bin/sh\n${wrapper}\n`);
  await chmod(script, 0o755);
  const mirror = path.join(dir, "mirror.git");
  await initBareMirror(mirror, source);
  execFileSync("git", ["--git-dir", mirror, "config", "remote.origin.uploadpack", script]);
  return mirror;
}

// 16 KiB every 80 ms: a slow but steady network.
const TRICKLE = `git-upload-pack "$@" | python3 -c '
import sys, time
while True:
    chunk = sys.stdin.buffer.read1(16384)
    if not chunk: break
    sys.stdout.buffer.write(chunk); sys.stdout.buffer.flush(); time.sleep(0.08)
'`;

describe("fetchMirror's block timeout", () => {
  it("lets a slow transfer that keeps reporting progress run longer than the timeout", async () => {
    const mirror = await mirrorThrough(sourceRepo(150), TRICKLE);
    const started = Date.now();
    await fetchMirror(mirror, { blockTimeoutMs: 1200 });
    expect(Date.now() - started).toBeGreaterThan(1200);
    expect(await revParseCommit(mirror, "HEAD")).toMatch(/^[0-9a-f]{40}$/);
  });

  it("still stops a fetch that stalls", async () => {
    const mirror = await mirrorThrough(sourceRepo(1), `sleep 5; exec git-upload-pack "$@"`);
    await expect(fetchMirror(mirror, { blockTimeoutMs: 800 })).rejects.toThrow(/block timeout/);
  });
});

describe("withoutProgress", () => {
  it("keeps git's error lines and drops the progress from captured stderr", async () => {
    const stderr = await readFile(FIXTURE, "utf8");
    expect(withoutProgress(stderr)).toBe(
      "fetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output\n",
    );
  });

  it("progress counts do not make a permanent error look transient", () => {
    const stderr = "Receiving objects:  50% (503/1006)\rReceiving objects:  51% (514/1006)\rfatal: repository 'x' not found\n";
    expect(isTransientGitError(new Error(stderr))).toBe(true);
    expect(isTransientGitError(new Error(withoutProgress(stderr)))).toBe(false);
  });
});

const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env }).toString().trim();

describe("the user's git environment", () => {
  it("an ssh command from the environment (a CI deploy key) is the one git uses", async () => {
    const marker = path.join(dir, "ssh-was-used");
    const fakeSsh = path.join(dir, "fake-ssh.sh");
    await writeFile(fakeSsh, `#!/bin/sh\necho "$@" > '${marker}'\nexit 1\n`, { mode: 0o755 });
    const saved = process.env.GIT_SSH_COMMAND;
    process.env.GIT_SSH_COMMAND = fakeSsh;
    try {
      await expect(lsRemote("ssh://git@example.invalid/org/repo.git", "main")).rejects.toThrow();
    } finally {
      if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
      else process.env.GIT_SSH_COMMAND = saved;
    }
    expect(await readFile(marker, "utf8")).toContain("example.invalid");
  });
});

describe("values git would read as options", () => {
  it("ls-remote and a new mirror refuse a repository or ref starting with '-' before git runs (--exec runs a command)", async () => {
    const marker = path.join(dir, "pwned");
    await expect(lsRemote(`--exec=touch ${marker};true`, "main")).rejects.toThrow(GitCommandError);
    await expect(lsRemote(`file://${dir}`, "--upload-pack=x")).rejects.toThrow(/starts with '-'/);
    await expect(initBareMirror(path.join(dir, "m"), `--exec=touch ${marker}`)).rejects.toThrow(GitCommandError);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });
});

describe("lsRemote", () => {
  it("names the commit `git clone -b REF` checks out, also when a branch and a tag share the name", async () => {
    const repo = path.join(dir, "backend");
    execFileSync("git", ["init", "-q", "-b", "main", repo], { env });
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "tagged");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "-m", "annotated", "v1");
    git(repo, "tag", "r24.05");
    const tagged = git(repo, "rev-parse", "HEAD");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "on the branch");
    git(repo, "branch", "r24.05");
    const branched = git(repo, "rev-parse", "HEAD");

    git(dir, "clone", "-q", "--single-branch", "--depth=1", "-b", "r24.05", `file://${repo}`, "clone");
    const cloned = git(path.join(dir, "clone"), "rev-parse", "HEAD");
    expect(cloned).toBe(branched);
    expect(await lsRemote(`file://${repo}`, "r24.05")).toBe(cloned);
    // an annotated tag is peeled to its commit
    expect(await lsRemote(`file://${repo}`, "v1")).toBe(tagged);
    expect(await lsRemote(`file://${repo}`, "nope")).toBeUndefined();
  });
});

describe("failed git commands", () => {
  it("are GitCommandErrors with git's own lines, and a failed extraction a TarCommandError naming its directory", async () => {
    const missing = path.join(dir, "no-such-repo");
    const error = await lsRemote(missing, "main").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitCommandError);
    expect((error as GitCommandError).args.slice(0, 2)).toEqual(["ls-remote", missing]);
    expect((error as GitCommandError).tail.join("\n")).toMatch(/does not appear to be a git repository|not found/);

    const repo = sourceRepo(1);
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo }).toString().trim();
    const archive = await exportTree(path.join(repo, ".git"), "0".repeat(40), path.join(dir, "out")).catch((e: unknown) => e);
    expect(archive).toBeInstanceOf(GitCommandError);
    expect((archive as GitCommandError).message).toMatch(/^git archive --format=tar failed: fatal: /);

    // tar cannot create its directory under a file: tar's failure, not git's broken pipe, is reported
    const file = path.join(dir, "file");
    await writeFile(file, "");
    const tar = await exportTree(path.join(repo, ".git"), head, path.join(file, "out")).catch((e: unknown) => e);
    expect(tar).toBeInstanceOf(TarCommandError);
    expect((tar as TarCommandError).directory).toBe(path.join(file, "out"));
  });
});
