// Test helpers that make throwaway git repositories from the fixtures:
// a toy Triton server checkout (test/fixtures/server) and a "GitHub organization"
// of bare repositories that build.py's --github-organization can point at.
// Only node: builtins and the real git CLI are used.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Root of the triton-build checkout (also when this file runs compiled, from build/bench/). */
export const PROJECT_ROOT = findProjectRoot(HERE);

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "test", "fixtures", "server"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no triton-build checkout above ${start}`);
  }
}

/** Template of the toy server repository (copied by createFixtureServerRepo). */
export const FIXTURE_SERVER_TEMPLATE = path.join(PROJECT_ROOT, "test", "fixtures", "server");

/**
 * The busybox image the fixture build.py scripts run in (made by scripts/make-fixture-images.sh,
 * which reads the same variable): another tag lets a checkout with changed fixture shims test
 * on a daemon that other checkouts use at the same time.
 */
export const FIXTURE_BASE_IMAGE = process.env.TRITON_BUILD_FIXTURE_IMAGE || "triton-build-fixture/base:24.05";

/** Release branch of the fixture server repo and of every repository of the fixture org. */
export const FIXTURE_RELEASE_BRANCH = "r24.05";

/** Backends that get a `<name>_backend` repository in the default fixture org. */
export const FIXTURE_BACKENDS = [
  "python",
  "onnxruntime",
  "tensorrt",
  "pytorch",
  "dali",
  "vllm",
  "tensorrtllm",
  "identity",
  "square",
  "repeat",
  "tensorflow",
  "openvino",
  "fil",
  "ensemble",
] as const;

/** Repositories created by createFixtureOrg when no list is given. */
export const DEFAULT_ORG_REPOS: readonly string[] = [
  "common",
  "core",
  "backend",
  "third_party",
  ...FIXTURE_BACKENDS.map((be) => `${be}_backend`),
  "checksum_repository_agent",
  "local_cache",
  "redis_cache",
];

/**
 * Refs every fixture org has besides r24.05 (merged with the caller's):
 * TensorRT-LLM backend releases are tags (24.05 pairs with v0.9.0).
 */
export const DEFAULT_ORG_TAGS: Readonly<Record<string, readonly string[]>> = {
  tensorrtllm_backend: ["v0.9.0"],
};

// Fixed identity and dates: the same content gives the same commit ids in every
// temp dir, and the caller's git configuration never leaks in.
const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "triton-build fixture",
  GIT_AUTHOR_EMAIL: "fixture@triton-build.invalid",
  GIT_COMMITTER_NAME: "triton-build fixture",
  GIT_COMMITTER_EMAIL: "fixture@triton-build.invalid",
  GIT_AUTHOR_DATE: "2024-05-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2024-05-01T00:00:00Z",
  GIT_TERMINAL_PROMPT: "0",
};

function git(cwd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("git", args, { cwd, env: GIT_ENV, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`git ${args.join(" ")} failed in ${cwd}: ${stderr || error.message}`));
      } else {
        resolve(stdout.trim());
      }
    });
    if (input !== undefined) {
      child.stdin?.end(input);
    }
  });
}

export interface FixtureServerRepoOptions {
  /** Branch to commit on; default r24.05. */
  branch?: string;
  /** Extra or replaced files, path relative to the repo root -> content (e.g. fixture.json). */
  extraFiles?: Record<string, string>;
}

/**
 * Copies test/fixtures/server into `dir`, makes it a git repository and commits
 * everything on `branch` (default r24.05). Returns the checkout path and the commit.
 */
export async function createFixtureServerRepo(dir: string, opts: FixtureServerRepoOptions = {}): Promise<{ path: string; commit: string }> {
  const branch = opts.branch ?? FIXTURE_RELEASE_BRANCH;
  const repo = path.resolve(dir);
  await mkdir(repo, { recursive: true });
  await cp(FIXTURE_SERVER_TEMPLATE, repo, {
    recursive: true,
    // a build/ left in the template by a manual run is not part of the fixture
    filter: (src) => path.relative(FIXTURE_SERVER_TEMPLATE, src).split(path.sep)[0] !== "build",
  });
  // Like the real server's docs/_static/.gitattributes: an LFS-tracked image whose object exists
  // nowhere (a mirror made by plain git has none). Kept under another name in this project, whose
  // own checkout must not run the LFS filter on it.
  await rename(path.join(repo, "docs", "_static", "dot-gitattributes"), path.join(repo, "docs", "_static", ".gitattributes"));
  for (const [rel, content] of Object.entries(opts.extraFiles ?? {})) {
    const target = path.join(repo, rel);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  await git(repo, ["init", "-q", "-b", branch]);
  await git(repo, ["config", "user.name", "triton-build fixture"]);
  await git(repo, ["config", "user.email", "fixture@triton-build.invalid"]);
  await git(repo, ["config", "commit.gpgsign", "false"]);
  await git(repo, ["add", "-A"]);
  await git(repo, ["commit", "-q", "-m", "Fixture Triton server repository"]);
  const commit = await git(repo, ["rev-parse", "HEAD"]);
  return { path: repo, commit };
}

/** Writes a one-file commit into a bare repository and returns its id. */
async function commitReadme(bare: string, repoName: string, ref: string, parent?: string): Promise<string> {
  const readme =
    `# ${repoName}\n\n` +
    `Fixture repository "${repoName}" at ${ref} (triton-build test fixture).\n` +
    `Nothing here is built: the fixture toolchain inside the build image never clones it.\n`;
  const blob = await git(bare, ["hash-object", "-w", "--stdin"], readme);
  const tree = await git(bare, ["mktree"], `100644 blob ${blob}\tREADME.md\n`);
  const args = ["commit-tree", tree, "-m", `${repoName} ${ref}`];
  if (parent) {
    args.push("-p", parent);
  }
  return git(bare, args);
}

async function createOrgRepo(dir: string, repoName: string, extraRefs: readonly string[]): Promise<void> {
  const bare = path.join(dir, `${repoName}.git`);
  await mkdir(bare, { recursive: true });
  await git(bare, ["init", "-q", "--bare", "-b", FIXTURE_RELEASE_BRANCH]);
  const main = await commitReadme(bare, repoName, FIXTURE_RELEASE_BRANCH);
  await git(bare, ["update-ref", `refs/heads/${FIXTURE_RELEASE_BRANCH}`, main]);
  for (const name of extraRefs) {
    const { ref, annotatedTag } = refFor(name);
    const commit = await commitReadme(bare, repoName, name, main);
    if (annotatedTag) {
      await git(bare, ["tag", "-a", "-m", `${repoName} ${name}`, ref.slice("refs/tags/".length), commit]);
    } else {
      await git(bare, ["update-ref", ref, commit]);
    }
  }
}

/**
 * How an extra ref name becomes a ref: "refs/..." is used as given (refs/tags/*
 * as a lightweight tag), a name like v0.9.0 (v + digit) becomes an annotated tag,
 * anything else (r24.04, slow30, fail-x, main) becomes a branch.
 */
function refFor(name: string): { ref: string; annotatedTag: boolean } {
  if (name.startsWith("refs/")) {
    return { ref: name, annotatedTag: false };
  }
  if (/^v\d/.test(name)) {
    return { ref: `refs/tags/${name}`, annotatedTag: true };
  }
  return { ref: `refs/heads/${name}`, annotatedTag: false };
}

/**
 * Creates `<dir>/<repo>.git` bare repositories, each with one commit on r24.05
 * (content names the repo) and one distinct commit per extra ref in `tags[repo]`
 * (merged with DEFAULT_ORG_TAGS; see refFor for tag vs branch). Returns the
 * file:// URL to pass as build.py's --github-organization.
 */
export async function createFixtureOrg(
  dir: string,
  repos: readonly string[] = DEFAULT_ORG_REPOS,
  tags: Record<string, string[]> = {},
): Promise<{ url: string }> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const refsOf = (repo: string): string[] => [...new Set([...(DEFAULT_ORG_TAGS[repo] ?? []), ...(tags[repo] ?? [])])];
  const queue = [...repos];
  const worker = async (): Promise<void> => {
    for (let repo = queue.shift(); repo !== undefined; repo = queue.shift()) {
      await createOrgRepo(root, repo, refsOf(repo));
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, queue.length) }, worker));
  return { url: pathToFileURL(root).href };
}

/**
 * Makes sure the fixture base image exists (runs scripts/make-fixture-images.sh,
 * which does nothing when the image is up to date). Returns the image id.
 */
export function ensureFixtureBaseImage(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [path.join(PROJECT_ROOT, "scripts", "make-fixture-images.sh")], { cwd: PROJECT_ROOT }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`make-fixture-images.sh failed: ${stderr || error.message}`));
      } else {
        resolve(stdout.trim());
      }
    });
  });
}
