// Every expected failure is typed: one test makes each of them happen for real and checks the
// exit code, the message, and that nothing says "bug" or prints a stack trace.
//
// - ENOSPC: small tmpfs mounts (as root): one the checkout does not fit in, one the checkout fits
//   in but the compiled install tree does not (docker cp | tar -x during collect), one the git
//   mirror does not fit in.
// - EROFS: a tmpfs remounted read-only, as work dir and as cache dir.
// - EACCES: root bypasses permission bits only through the capabilities CAP_DAC_OVERRIDE and
//   CAP_DAC_READ_SEARCH; the CLI runs under `setpriv` with both dropped from its bounding set, so
//   the kernel checks the mode bits of a root-owned 0555 directory and refuses a write in it, as it
//   would for any user without write permission. (A read-only mount would give EROFS, and
//   `chattr +i` EPERM: not the failure wanted here.)
// - git: `git archive` of a mirror missing an object (deleted by hand).
// - docker: an image build step that fails (exit 1), and a daemon that cannot be reached (exit 3).
// - bad input: a YAML alias bomb under a 64 MB heap limit (it must neither hang nor eat memory),
//   a preset file over 1 MiB, a preset that is not UTF-8, an option-like --ref.
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliOptions, expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { PROJECT_ROOT } from "../helpers/fixture-repo.js";
import { createWorld, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let preset: string;
const mounts: string[] = [];

beforeAll(async () => {
  temp = await makeTempDir("tb-expected-failures-");
  // python installs a 4 MB file: the install tree outgrows a work dir the checkout fits in
  world = await createWorld(temp, { fixtureJson: `{\n  "default": 20,\n  "python_output_mb": 4\n}\n` });
  preset = await world.preset("expected-failures", "backends: [ensemble, python]\n");
});
afterAll(async () => {
  for (const dir of mounts.reverse()) await execa("umount", [dir], { reject: false });
  await world?.cleanup();
  await removeTempDir(temp);
});

/** A tmpfs of `size` (e.g. 1m, 64k) at a new directory; `readOnly` remounts it read-only once `fill` has run. */
async function tmpfs(name: string, size: string, options: { readOnly?: boolean; fill?: (dir: string) => Promise<void> } = {}): Promise<string> {
  const dir = path.join(temp, name);
  await mkdir(dir, { recursive: true });
  await execa("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounts.push(dir);
  await options.fill?.(dir);
  if (options.readOnly) await execa("mount", ["-o", "remount,ro", dir]);
  return dir;
}

interface Case {
  what: string;
  args: string[];
  options?: Partial<CliOptions>;
  exitCode: number;
  says: string | RegExp;
}

describe("every expected failure is typed", () => {
  it("full disks, read-only and unwritable directories, git, docker and bad input: the right exit code, no 'bug'", async () => {
    const plan = (...args: string[]) => ["plan", "--preset", preset, ...world.args(), ...args];
    const build = (...args: string[]) => ["--preset", preset, ...world.args(), "--no-cache", "--tag", world.tag("expected-failure"), ...args];
    const cases: Case[] = [];

    // ENOSPC
    const tiny = await tmpfs("tiny", "64k");
    cases.push({
      what: "ENOSPC: the checkout does not fit in the work dir",
      args: plan("--work-dir", path.join(tiny, "w")),
      exitCode: 3,
      says: `cannot use the checkout directory ${path.join(tiny, "w", "server")}: no space left on the device (ENOSPC)`,
    });
    const small = await tmpfs("small", "1m");
    cases.push({
      what: "ENOSPC: the install tree does not fit in the work dir (collect: docker cp | tar -x)",
      args: build("--work-dir", path.join(small, "w")),
      exitCode: 3,
      says: `cannot use the directory ${path.join(small, "w", "server", "build")}: no space left on the device (ENOSPC)\n--- last 10 lines of tar -x ---`,
    });
    const tinyCache = await tmpfs("tiny-cache", "16k");
    cases.push({
      what: "ENOSPC: the git mirror does not fit in the cache dir",
      args: plan("--cache-dir", path.join(tinyCache, "cache")),
      exitCode: 3,
      says: `cannot use the cache dir ${path.join(tinyCache, "cache")}: no space left on the device`,
    });

    // EROFS
    const readOnly = await tmpfs("read-only", "1m", {
      readOnly: true,
      fill: async (dir) => {
        await mkdir(path.join(dir, "w"));
        await writeFile(path.join(dir, "w", ".triton-build-work-dir"), "");
      },
    });
    cases.push({
      what: "EROFS: a new work dir on a read-only file system",
      args: plan("--work-dir", path.join(readOnly, "new")),
      exitCode: 3,
      says: `cannot use the work dir ${path.join(readOnly, "new")}: the file system is read-only (EROFS`,
    });
    cases.push({
      what: "EROFS: the tool's own work dir, now read-only",
      args: build("--work-dir", path.join(readOnly, "w")),
      exitCode: 3,
      says: `cannot use the work dir ${path.join(readOnly, "w")}: the file system is read-only (EROFS`,
    });
    cases.push({
      what: "EROFS: a read-only cache dir",
      args: plan("--cache-dir", path.join(readOnly, "cache")),
      exitCode: 3,
      says: `cannot use the cache dir ${path.join(readOnly, "cache")}: the file system is read-only (EROFS`,
    });

    // EACCES
    const locked = path.join(temp, "locked");
    await mkdir(locked);
    await chmod(locked, 0o555);
    const withoutOverride: Partial<CliOptions> = { wrapper: ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"] };
    cases.push({
      what: "EACCES: a work dir in a directory this process may not write",
      args: plan("--work-dir", path.join(locked, "w")),
      options: withoutOverride,
      exitCode: 3,
      says: `cannot use the work dir ${path.join(locked, "w")}: permission denied (EACCES`,
    });
    cases.push({
      what: "EACCES: a cache dir in a directory this process may not write",
      args: plan("--cache-dir", path.join(locked, "cache")),
      options: withoutOverride,
      exitCode: 3,
      says: `cannot use the cache dir ${path.join(locked, "cache")}: permission denied (EACCES`,
    });

    // git: a mirror with an object missing; --offline keeps it as it is
    const brokenCache = path.join(temp, "broken-cache");
    expect((await runCli(plan("--cache-dir", brokenCache), { tempDir: temp })).exitCode).toBe(0);
    const [mirror] = await readdir(path.join(brokenCache, "git"));
    const mirrorDir = path.join(brokenCache, "git", mirror ?? "");
    const blob = (await execa("git", ["--git-dir", mirrorDir, "rev-parse", `${world.server.commit}:build.py`])).stdout.trim();
    await rm(path.join(mirrorDir, "objects", blob.slice(0, 2), blob.slice(2)));
    cases.push({
      what: "git: git archive of a mirror with a missing object",
      args: plan("--cache-dir", brokenCache, "--offline"),
      exitCode: 3,
      says: /git archive --format=tar failed: (fatal|error): .*\n(.*\n)*--- last \d+ lines of git archive ---/,
    });

    // docker
    const noBase = await world.preset("no-base", "backends: [python]\n");
    await writeFile(
      noBase,
      (await import("node:fs/promises").then((fs) => fs.readFile(noBase, "utf8"))).replace(/base: .*/, "base: triton-build-test/no-such-image:1"),
    );
    cases.push({
      what: "docker: the buildbase image build fails (its base image is nowhere)",
      args: ["--preset", noBase, ...world.args(), "--no-cache", "--tag", world.tag("no-base")],
      exitCode: 1,
      says: /error: building the buildbase image failed\n--- last \d+ lines of buildbase log ---/,
    });
    cases.push({
      what: "docker: the daemon cannot be reached",
      args: build(),
      options: { env: { DOCKER_HOST: `unix://${path.join(temp, "no-docker.sock")}` } },
      exitCode: 3,
      says: "the Docker daemon is not reachable",
    });

    // bad input
    const bomb = path.join(PROJECT_ROOT, "test", "fixtures", "yaml", "alias-bomb.yaml");
    cases.push({
      what: "a YAML alias bomb, with a 64 MB heap",
      args: plan().map((a) => (a === preset ? bomb : a)),
      options: { env: { NODE_OPTIONS: "--max-old-space-size=64" } },
      exitCode: 2,
      says: `${bomb}: cannot read the YAML: Excessive alias count indicates a resource exhaustion attack`,
    });
    const big = path.join(temp, "big.yaml");
    await writeFile(big, `release: "24.05"\n# ${"x".repeat(2 * 1024 * 1024)}\n`);
    cases.push({ what: "a preset file over 1 MiB", args: plan().map((a) => (a === preset ? big : a)), exitCode: 2, says: `${big}: is larger than 1 MiB` });
    const latin1 = path.join(temp, "latin1.yaml");
    await writeFile(latin1, Buffer.concat([Buffer.from('release: "24.05"\nbackends: [python]\ndescription: "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    cases.push({
      what: "a preset file that is not UTF-8",
      args: plan().map((a) => (a === preset ? latin1 : a)),
      exitCode: 2,
      says: `${latin1}:3: the preset file is not valid UTF-8 text`,
    });
    cases.push({
      what: "an option-like --ref",
      args: plan("--ref", `--upload-pack=touch ${path.join(temp, "uploaded")}`),
      exitCode: 2,
      says: "--ref: '--upload-pack=touch",
    });

    const problems: string[] = [];
    for (const c of cases) {
      const result = await runCli(c.args, { tempDir: temp, ...c.options });
      try {
        expectCleanFailure(result, c.exitCode, c.says);
        expect(result.stderr).not.toMatch(/bug|unexpected failure/i);
      } catch (error) {
        problems.push(`${c.what}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    await expect(readdir(temp)).resolves.not.toContain("uploaded");
  });
});
