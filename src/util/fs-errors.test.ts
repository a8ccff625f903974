import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError } from "../errors.js";
import { fileSystemErrorCode, makeDirectory, pathError, usingPath } from "./fs-errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-fs-errors-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("file-system failures in a chosen directory", () => {
  it("a file where a directory is needed is an environment error naming the directory and the option", async () => {
    const file = path.join(dir, "F");
    await writeFile(file, "");
    const role = { what: "cache dir", path: file, option: "--cache-dir DIR" };
    const error = await usingPath(role, () => mkdir(path.join(file, "git"), { recursive: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).exitCode).toBe(3);
    expect((error as EnvironmentError).message).toBe(
      `cannot use the cache dir ${file}: a file stands where a directory is needed (ENOTDIR: mkdir ${path.join(file, "git")})`,
    );
    expect((error as EnvironmentError).hint).toBe("it must be a directory (or not exist yet), or choose another with --cache-dir DIR");
    await expect(makeDirectory({ what: "work dir", path: file, option: "--work-dir DIR" })).rejects.toThrow(
      `cannot use the work dir ${file}: it exists and is not a directory`,
    );
  });

  it("a full disk reported by a child process counts too", () => {
    const error = pathError(new Error("tar: x: Cannot write: No space left on device"), {
      what: "checkout directory",
      path: "/w/server",
      option: "--work-dir DIR",
    });
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toBe("cannot use the checkout directory /w/server: no space left on the device (ENOSPC)");
  });

  it("other errors pass through unchanged: bugs, and programs that cannot be started", async () => {
    const bug = new TypeError("x is undefined");
    expect(pathError(bug, { what: "work dir", path: dir, option: "--work-dir DIR" })).toBe(bug);
    const spawnFailure = await execa(path.join(dir, "no-such-program")).catch((e: unknown) => e);
    expect(fileSystemErrorCode(spawnFailure)).toBeUndefined();
    const missing = await import("node:fs/promises").then((fs) => fs.readFile(path.join(dir, "missing"))).catch((e: unknown) => e);
    expect(fileSystemErrorCode(missing)).toBeUndefined();
    expect(await makeDirectory({ what: "work dir", path: path.join(dir, "a", "b"), option: "--work-dir DIR" })).toBe(path.join(dir, "a", "b"));
  });
});
