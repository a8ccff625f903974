import path from "node:path";
import { writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createFixtureServerRepo } from "../helpers/fixture-repo.js";

// Expected failures of this machine and of the command line: one clear message, the right exit
// code, no stack trace.
let temp: string;
let server: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-bad-input-");
  server = (await createFixtureServerRepo(path.join(temp, "server"))).path;
});
afterAll(() => removeTempDir(temp));

describe("directories that cannot be used", () => {
  it("a file given as work dir, cache dir or config dir is an environment problem naming it", async () => {
    const file = path.join(temp, "a-file");
    await writeFile(file, "");
    const plan = (args: string[]) => runCli(["plan", "--preset", "full", "--source", server, ...args], { tempDir: temp });
    expectCleanFailure(await plan(["--work-dir", file]), 3, `cannot use the work dir ${file}: it exists and is not a directory`);
    expectCleanFailure(await plan(["--cache-dir", file]), 3, `cannot use the cache dir ${file}: a file stands where a directory is needed`);
    expectCleanFailure(
      await runCli(["config", "set", "jobs", "2"], { tempDir: temp, env: { TRITON_BUILD_CONFIG_DIR: file } }),
      3,
      `cannot use the config dir ${file}: a file stands where a directory is needed`,
    );
  });
});

describe("command-line values", () => {
  it("a mistyped command is an unknown command with a suggestion, not an argument of build", async () => {
    expectCleanFailure(await runCli(["plna", "--preset", "full"], { tempDir: temp }), 2, "unknown command 'plna' (did you mean 'plan'?)");
    expectCleanFailure(await runCli(["--preset", "full", "plna"], { tempDir: temp }), 2, "unknown command 'plna' (did you mean 'plan'?)");
  });

  it("a usage error in a nested command is exit 2 too (cache explain, config get, cache ls, presets)", async () => {
    expectCleanFailure(await runCli(["cache", "explain"], { tempDir: temp }), 2, "missing required argument 'component'");
    expectCleanFailure(await runCli(["config", "get"], { tempDir: temp }), 2, "missing required argument 'key'");
    expectCleanFailure(await runCli(["cache", "ls", "--bogus"], { tempDir: temp }), 2, "unknown option '--bogus'");
    expectCleanFailure(await runCli(["presets", "list", "extra"], { tempDir: temp }), 2, "too many arguments");
  });

  it("a directory given as --python says so", async () => {
    expectCleanFailure(
      await runCli(["plan", "--preset", "full", "--source", server, "--python", temp], { tempDir: temp }),
      3,
      `'${temp}' is a directory, not a Python interpreter`,
    );
  });
});

describe("output", () => {
  it("a reader that goes away (plan --help | head) ends the run quietly with exit 0", async () => {
    // `true` exits at once, so the CLI writes its help into a closed pipe (EPIPE).
    const result = await execa("bash", ["-c", `node ${CLI} plan --help | true; echo "exit \${PIPESTATUS[0]}"`], {
      env: cliEnv(temp),
      extendEnv: false,
      reject: false,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("exit 0");
  });
});
