import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError, GitCommandError, TarCommandError } from "../errors.js";
import { fileSystemErrorCode, makeDirectory, pathError, unmappedPathError, usingPath } from "./fs-errors.js";

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

  it("a command's own report counts: a full disk or a read-only file system from any tool, a denied permission only from tar", () => {
    const tar = (line: string) => new TarCommandError(["-x", "-C", "/w"], { status: 2, output: `tar: x: ${line}`, directory: "/w" });
    expect(fileSystemErrorCode(tar("Cannot write: No space left on device"))).toBe("ENOSPC");
    expect(fileSystemErrorCode(tar("Cannot mkdir: Read-only file system"))).toBe("EROFS");
    expect(fileSystemErrorCode(tar("Cannot open: Permission denied"))).toBe("EACCES");
    // git says it of a server that refuses a key: not a directory of this machine
    const ssh = new GitCommandError(["fetch"], {
      status: 128,
      output: "git@host: Permission denied (publickey).\nfatal: Could not read from remote repository.",
    });
    expect(fileSystemErrorCode(ssh)).toBeUndefined();
    expect(fileSystemErrorCode(new GitCommandError(["fetch"], { status: 128, output: "fatal: unable to write file: Read-only file system" }))).toBe("EROFS");
  });

  it("a file-system failure no step mapped names the directory a command wrote to, or the path it happened at", async () => {
    const fromTar = unmappedPathError(
      new TarCommandError(["-x"], { status: 2, output: "tar: a: Cannot write: No space left on device", directory: "/w/server/build" }),
    );
    expect(fromTar).toBeInstanceOf(EnvironmentError);
    expect(fromTar?.message).toBe("cannot use the directory /w/server/build: no space left on the device (ENOSPC)");
    const file = path.join(dir, "F");
    await writeFile(file, "");
    const errno = await writeFile(path.join(file, "report.json"), "").catch((e: unknown) => e);
    expect(unmappedPathError(errno)?.message).toBe(
      `cannot use the path ${path.join(file, "report.json")}: a file stands where a directory is needed (ENOTDIR: open ${path.join(file, "report.json")})`,
    );
    const denied = Object.assign(new Error("EACCES: permission denied, open '/r/report.json'"), { code: "EACCES", syscall: "open", path: "/r/report.json" });
    expect(unmappedPathError(denied)?.message).toBe("cannot use the path /r/report.json: permission denied (EACCES: open /r/report.json)");
    expect(unmappedPathError(new TypeError("x is undefined"))).toBeUndefined();
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
