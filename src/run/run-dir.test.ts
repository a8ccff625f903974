import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError, UsageError } from "../errors.js";
import { openRunDir, pruneOldRuns } from "./run-dir.js";

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
      const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
      await utimes(path.join(root, name), t, t);
    }
    await mkdir(path.join(root, "not-a-run"));
    const busy = await openRunDir(path.join(root, names[0]!));
    const t = new Date(Date.UTC(2026, 0, 1));
    await utimes(path.join(root, names[0]!), t, t);
    expect(await pruneOldRuns(root, 2)).toBe(2);
    expect((await readdir(root)).sort()).toEqual([names[0], names[3], names[4], "not-a-run"].sort());
    await busy.release();
  });
});
