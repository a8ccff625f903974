import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lsRemote } from "./git.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-git-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env }).toString().trim();

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
