import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CommandError, DockerCommandError, errorMessage, ExitCode, firstErrorLine, GitCommandError, TarCommandError } from "./errors.js";

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** The adapters: the only code that runs other programs (STYLE.md guideline 1). */
const ADAPTERS = ["docker", "source", "gpu", "registry", "buildpy/run.ts", "util/lock.ts"];

/** `new Error(` and `Error(` called as a function, or a class that `extends Error`, outside comments. */
const PLAIN_ERROR = /(?<![\w.])(?:new\s+)?Error\s*\(|\bextends\s+Error\b/;

async function sourceFiles(entry: string): Promise<string[]> {
  const full = path.join(SRC, entry);
  if (entry.endsWith(".ts")) return [full];
  const names = await readdir(full, { recursive: true });
  return names.filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts")).map((name) => path.join(full, name));
}

function plainErrors(text: string): string[] {
  return text
    .split("\n")
    .map((line, i) => ({ line: line.replace(/\/\/.*$|^\s*\*.*$/, ""), number: i + 1 }))
    .filter(({ line }) => PLAIN_ERROR.test(line))
    .map(({ number }) => `line ${number}`);
}

describe("one error family for adapters", () => {
  it("no adapter throws or makes a plain Error", async () => {
    const found: string[] = [];
    let scanned = 0;
    for (const entry of ADAPTERS) {
      for (const file of await sourceFiles(entry)) {
        scanned++;
        for (const where of plainErrors(await readFile(file, "utf8"))) found.push(`${path.relative(SRC, file)} ${where}`);
      }
    }
    expect(scanned).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });

  it("the scan sees a plain Error, made or thrown, and not a typed one or a comment", () => {
    expect(plainErrors('throw new Error("x");')).toEqual(["line 1"]);
    expect(plainErrors('const e = Error("x");')).toEqual(["line 1"]);
    expect(plainErrors("x ?? new Error(`y`)")).toEqual(["line 1"]);
    expect(plainErrors('throw new GitCommandError(["x"], r);\n// new Error( in a comment\n * new Error( in a doc comment')).toEqual([]);
    expect(plainErrors("throw new EnvironmentError(a, b);")).toEqual([]);
    expect(plainErrors("export class RegistryError extends Error {")).toEqual(["line 1"]);
    expect(plainErrors("class X extends Error{}")).toEqual(["line 1"]);
    expect(plainErrors("export class RegistryError extends EnvironmentError {")).toEqual([]);
  });

  it("a command error names the command, its arguments and the line that says what went wrong", () => {
    const git = new GitCommandError(["archive", "--format=tar", "abc123"], {
      status: 128,
      output: "warning: something minor\nfatal: unable to read tree abc123\n\n",
    });
    expect(git).toBeInstanceOf(CommandError);
    expect(git.message).toBe("git archive --format=tar failed: fatal: unable to read tree abc123");
    expect(git.tail).toEqual(["warning: something minor", "fatal: unable to read tree abc123"]);
    expect(git.status).toBe(128);
    expect(git.exitCode).toBe(ExitCode.environment);

    const tar = new TarCommandError(["-x", "-C", "/w"], { status: 2, output: "tar: a: Cannot write: No space left on device", directory: "/w" });
    expect(tar.exitCode).toBe(ExitCode.environment);
    expect(tar.directory).toBe("/w");

    const docker = new DockerCommandError(["build", "-t", "x"], {
      exitCode: 1,
      tail: ["Step 2/3 : RUN false", "The command '/bin/sh -c false' returned a non-zero code: 1"],
    });
    expect(docker.exitCode).toBe(ExitCode.buildFailed);
    expect(docker.message).toBe("docker build -t failed: The command '/bin/sh -c false' returned a non-zero code: 1");
    expect(new DockerCommandError(["pull", "x"], { exitCode: -1, tail: [] }).message).toBe("docker pull x failed: no output");
  });

  it("keeps only the last lines of a long output", () => {
    const output = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    const error = new TarCommandError(["-x"], { status: 2, output });
    expect(error.tail).toHaveLength(40);
    expect(error.tail.at(-1)).toBe("line 99");
  });
});

describe("messages of anything thrown", () => {
  it("errorMessage: an Error's message, an object's message, else the value as text", () => {
    expect(errorMessage(new TypeError("x is undefined"))).toBe("x is undefined");
    expect(errorMessage({ message: "from a plain object" })).toBe("from a plain object");
    expect(errorMessage("a string")).toBe("a string");
    expect(errorMessage(undefined)).toBe("undefined");
    expect(errorMessage(null)).toBe("null");
  });

  it("firstErrorLine: the fatal/error line, else the last line; of a command error, its output's", () => {
    expect(firstErrorLine("Cloning into 'x'...\nfatal: repository 'y' not found\nmore")).toBe("fatal: repository 'y' not found");
    expect(firstErrorLine("Step 1/2\nError response from daemon: conflict")).toBe("Error response from daemon: conflict");
    expect(firstErrorLine("one\ntwo\n\n")).toBe("two");
    expect(firstErrorLine("")).toBe("");
    expect(firstErrorLine(new Error("only line"))).toBe("only line");
    const git = new GitCommandError(["ls-remote", "u"], { status: 128, output: "error: RPC failed\nfatal: early EOF" });
    expect(firstErrorLine(git)).toBe("error: RPC failed");
  });
});
