import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createFixtureServerRepo } from "../helpers/fixture-repo.js";

// The options of parallel and fanned-out builds: combinations that cannot work are refused
// (exit 2) before anything runs in Docker; `parallel` is a setting like `jobs`.
let temp: string;
let server: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-parallel-options-");
  server = (await createFixtureServerRepo(path.join(temp, "server"))).path;
});
afterAll(() => removeTempDir(temp));

const build = (args: string[], env: Record<string, string> = {}) => runCli(["--preset", "full", "--source", server, ...args], { tempDir: temp, env });

describe("parallel and fan-out options", () => {
  it("combinations that cannot work are usage errors", async () => {
    expectCleanFailure(await build(["--only", "core", "--cached-only"]), 2, "--only and --cached-only exclude each other");
    expectCleanFailure(await build(["--only", "core", "--no-cache"]), 2, "--only works through the cache, and --no-cache turns it off");
    expectCleanFailure(await build(["--cached-only", "--ci-image"]), 2, "--cached-only cannot be combined with --ci-image");
    expectCleanFailure(await build(["--strategy", "compose", "--engine", "default", "--parallel", "2"]), 2, "--engine, --parallel: only for --strategy build");
    expectCleanFailure(
      await build(["--parallel", "0"]),
      2,
      "--parallel: '0' is not a positive decimal integer; expected a whole number of builders from 1 to 1024",
    );
    expectCleanFailure(
      await build([], { TRITON_BUILD_PARALLEL: "many" }),
      2,
      "TRITON_BUILD_PARALLEL: 'many' is not a positive decimal integer; expected a whole number of builders from 1 to 1024",
    );
  });

  it("an engine that is no Docker context is a usage error naming it", async () => {
    const result = await build(["--engine", "no-such-context-for-triton-build", "--no-pull"]);
    expectCleanFailure(result, 2, "--engine no-such-context-for-triton-build: no such Docker context");
    expect(result.stderr).toContain("hint: `docker context ls` lists the contexts");
  });

  it("config set parallel stores a positive integer, and refuses anything else", async () => {
    const set = await runCli(["config", "set", "parallel", "3"], { tempDir: temp });
    expect(set.exitCode, set.stderr).toBe(0);
    const get = await runCli(["config", "get", "parallel"], { tempDir: temp });
    expect(get.stdout.trim()).toBe("3");
    expectCleanFailure(await runCli(["config", "set", "parallel", "none"], { tempDir: temp }), 2, "parallel");
  });
});
