import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError, UsageError } from "../errors.js";
import { openRunDir, pruneOldRuns, WORK_DIR_MARKER } from "./run-dir.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "tb-runs-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("run dirs", () => {
  it("one run per work dir at a time", async () => {
    const first = await openRunDir(path.join(root, "w"));
    await expect(openRunDir(path.join(root, "w"))).rejects.toThrow(UsageError);
    await first.release();
    const again = await openRunDir(path.join(root, "w"));
    await again.release();
  });

  it("a file where the work dir should be is an environment error naming it", async () => {
    const file = path.join(root, "F");
    await writeFile(file, "");
    const error = await openRunDir(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(`cannot use the work dir ${file}: it exists and is not a directory`);
    await expect(openRunDir(path.join(file, "run"))).rejects.toThrow(
      `cannot use the work dir ${path.join(file, "run")}: a file stands where a directory is needed`,
    );
  });

  it("keeps the newest runs, and any run that is still going", async () => {
    const names = Array.from({ length: 5 }, (_, i) => `20260101-00000${i}-preset-00000${i}`);
    for (const [i, name] of names.entries()) {
      await mkdir(path.join(root, name, "logs"), { recursive: true });
      await writeFile(path.join(root, name, WORK_DIR_MARKER), "");
      const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
      await utimes(path.join(root, name), t, t);
    }
    await mkdir(path.join(root, "not-a-run"));
    // named like a run, oldest of all, but not made by triton-build: never removed
    const lookalike = "20250101-000000-preset-abcdef";
    await mkdir(path.join(root, lookalike, "logs"), { recursive: true });
    await utimes(path.join(root, lookalike), new Date(Date.UTC(2025, 0, 1)), new Date(Date.UTC(2025, 0, 1)));
    const busy = await openRunDir(path.join(root, names[0]!));
    const t = new Date(Date.UTC(2026, 0, 1));
    await utimes(path.join(root, names[0]!), t, t);
    expect(await pruneOldRuns(root, 2)).toBe(2);
    expect((await readdir(root)).sort()).toEqual([names[0], names[3], names[4], "not-a-run", lookalike].sort());
    await busy.release();
  });

  it("a directory it did not make, and that is not empty, is refused with nothing in it touched", async () => {
    const project = path.join(root, "project");
    await mkdir(path.join(project, "logs"), { recursive: true });
    await writeFile(path.join(project, "logs", "mine.log"), "the user's log\n");
    const error = await openRunDir(project).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `work dir ${project} is not empty and triton-build did not make it (it has no ${WORK_DIR_MARKER} file); nothing in it was touched`,
    );
    expect(await readdir(project)).toEqual(["logs"]);
    expect(await readFile(path.join(project, "logs", "mine.log"), "utf8")).toBe("the user's log\n");
  });

  it("a new or empty directory is made its own (marked), and a re-run in it keeps working", async () => {
    const empty = path.join(root, "empty");
    await mkdir(empty);
    for (const dir of [empty, path.join(root, "new", "w")]) {
      const run = await openRunDir(dir);
      expect(await readdir(dir)).toEqual(expect.arrayContaining([WORK_DIR_MARKER, "logs", "scripts"]));
      await writeFile(path.join(run.logs, "core.log"), "first run\n");
      await run.release();
      const again = await openRunDir(dir);
      expect(await readdir(again.logs)).toEqual([]);
      await again.release();
    }
  });
});
