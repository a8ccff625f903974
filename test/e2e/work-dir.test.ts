// The user's directories are safe: `--work-dir` on a non-empty directory triton-build did not make
// (a project directory, `--work-dir .`) is refused with exit 2 and nothing in it changes, down to
// every file's mode, size, time and hash. A work dir the tool made keeps working run after run.
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createWorld, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let preset: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-work-dir-");
  world = await createWorld(temp);
  preset = await world.preset("work-dir", "backends: [ensemble, python]\n");
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

/** Every entry under `root`: path, type, mode, size, modification time, and a file's hash or a link's target. */
async function listing(root: string): Promise<string[]> {
  const rows: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const info = await lstat(full);
      const base = `${path.relative(root, full)} mode=${(info.mode & 0o7777).toString(8)} size=${info.size} mtime=${info.mtimeMs}`;
      if (info.isSymbolicLink()) rows.push(`${base} link -> ${await readlink(full)}`);
      else if (info.isDirectory()) {
        rows.push(`${base} dir`);
        await walk(full);
      } else
        rows.push(
          `${base} file ${createHash("sha256")
            .update(await readFile(full))
            .digest("hex")}`,
        );
    }
  };
  const top = await lstat(root);
  rows.push(`. mode=${(top.mode & 0o7777).toString(8)} mtime=${top.mtimeMs}`);
  await walk(root);
  return rows;
}

/** A project directory with the names a run uses (scripts/, logs/, server/) and a few kinds of entry. */
async function makeProject(dir: string): Promise<void> {
  await mkdir(path.join(dir, "scripts"), { recursive: true });
  await writeFile(path.join(dir, "scripts", "release.sh"), "#!/bin/sh\necho release\n");
  await chmod(path.join(dir, "scripts", "release.sh"), 0o755);
  await mkdir(path.join(dir, "logs"));
  await writeFile(path.join(dir, "logs", "app.log"), "yesterday's log\n");
  await mkdir(path.join(dir, "server", "build"), { recursive: true });
  await writeFile(path.join(dir, "server", "main.py"), "print('hello')\n");
  await writeFile(path.join(dir, "server", "build", "notes.txt"), "build notes\n");
  await writeFile(path.join(dir, ".env"), "TOKEN=secret\n");
  await chmod(path.join(dir, ".env"), 0o600);
  await mkdir(path.join(dir, "empty"));
  await symlink("server", path.join(dir, "current"));
}

describe("--work-dir on the user's own directory", () => {
  it("is refused with exit 2 by build, plan, --work-dir . and TRITON_BUILD_WORK_DIR, and nothing in it changes", async () => {
    const project = path.join(temp, "project");
    await makeProject(project);
    const before = await listing(project);
    expect(before.length).toBeGreaterThan(10);
    const refusal = `work dir ${project} is not empty and triton-build did not make it (it has no .triton-build-work-dir file); nothing in it was touched`;
    const attempts: Array<{ args: string[]; env?: Record<string, string>; cwd?: string }> = [
      { args: ["--preset", preset, ...world.args(), "--work-dir", project, "--tag", world.tag("refused")] },
      { args: ["build", "--preset", preset, ...world.args(), "--work-dir", ".", "--tag", world.tag("refused")], cwd: project },
      { args: ["plan", "--preset", preset, ...world.args(), "--work-dir", project] },
      { args: ["--preset", preset, ...world.args(), "--keep-work-dir", "--tag", world.tag("refused")], env: { TRITON_BUILD_WORK_DIR: project } },
    ];
    for (const attempt of attempts) {
      const result = await runCli(attempt.args, { tempDir: temp, ...(attempt.env ? { env: attempt.env } : {}), ...(attempt.cwd ? { cwd: attempt.cwd } : {}) });
      expectCleanFailure(result, 2, refusal);
      expect(await listing(project), attempt.args.join(" ")).toEqual(before);
    }
  });

  it("a new directory becomes a work dir of the tool, and a second run in it works", async () => {
    const workDir = path.join(temp, "mine");
    for (const run of ["first", "second"]) {
      const result = await runCli(["--preset", preset, ...world.args(), "--work-dir", workDir, "--tag", world.tag(`own-${run}`)], { tempDir: temp });
      expect(result.exitCode, `${run} run: ${result.stderr}`).toBe(0);
      expect(await readdir(workDir)).toEqual(expect.arrayContaining([".triton-build-work-dir", "logs"]));
    }
  });
});
