import path from "node:path";
import { chmod, cp, readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
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

  it("repository URLs: --source is held to the rules of every repository URL, and none may start with '-'", async () => {
    const plan = (args: string[], env: Record<string, string> = {}) => runCli(["plan", "--preset", "full", ...args], { tempDir: temp, env });
    expectCleanFailure(await plan(["--source", "$(id)@h:x"]), 2, "--source: '$(id)@h:x' contains '$', a shell metacharacter");
    expectCleanFailure(await plan(["--source=-ux@h:x"]), 2, "--source: '-ux@h:x' starts with '-', which git would read as an option");
    expectCleanFailure(await plan([], { TRITON_BUILD_SOURCE: "-ux@h:x" }), 2, "TRITON_BUILD_SOURCE: '-ux@h:x' starts with '-'");
    // build.py would run `git clone ... -b TAG -ux@h:/python_backend.git` unquoted
    expectCleanFailure(
      await plan(["--source", server, "--github-organization=-ux@h:"]),
      2,
      "--github-organization: '-ux@h:' starts with '-', which git would read as an option",
    );
    // A local checkout is only an argument of git: a path with a space is fine, a control character is not.
    await cp(server, path.join(temp, "my server"), { recursive: true });
    const spaced = await plan(["--source", "my server", "--github-organization", pathToFileURL(path.join(temp, "no-org")).href], {});
    expect(spaced.stderr).not.toMatch(/^error:/m);
    expect(spaced.exitCode).toBe(0);
    expectCleanFailure(await plan(["--source", "my\u001bserver"]), 2, "--source: 'my\\u001bserver' (");
    expectCleanFailure(await plan(["--source", "my\u009bserver"]), 2, /--source: 'my\\u009bserver' \(.*\) contains a control character/);
    expectCleanFailure(
      await plan(["--source", "my\u202eserver"]),
      2,
      /--source: 'my\\u202eserver' \(.*\) contains a text-direction or line-separator character/,
    );
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

describe("values from the environment", () => {
  // Each message names the variable the value came from (not the flag) and shows the value
  // quoted and escaped; nothing reaches Docker (every docker command would go through the
  // wrapper, which logs it).
  const PAYLOAD = "$(id)";
  it.each([
    ["build", { TRITON_BUILD_CUDA_ARCH: `90-real;${PAYLOAD}` }, `TRITON_BUILD_CUDA_ARCH '90-real;${PAYLOAD}': '${PAYLOAD}' is not a CUDA architecture`],
    ["build", { TRITON_BUILD_IMAGE: `base=${PAYLOAD}` }, `TRITON_BUILD_IMAGE 'base=${PAYLOAD}': '${PAYLOAD}' is not a valid image reference`],
    ["build", { TRITON_BUILD_WITHOUT: PAYLOAD }, `TRITON_BUILD_WITHOUT '${PAYLOAD}': preset 'full' has no such component or feature`],
    ["build", { TRITON_BUILD_TAG: `x;${PAYLOAD}` }, `TRITON_BUILD_TAG 'x;${PAYLOAD}': not a valid image name`],
    ["build", { TRITON_BUILD_REMOTE_CACHE: `r/c;${PAYLOAD}` }, `TRITON_BUILD_REMOTE_CACHE 'r/c;${PAYLOAD}': not an image repository`],
    ["plan", { TRITON_BUILD_CUDA_ARCH: "90-real\u001b[2J" }, "TRITON_BUILD_CUDA_ARCH '90-real\\u001b[2J'"],
  ])("%s with %j", async (command, env, message) => {
    const log = path.join(temp, `docker-${Object.keys(env)[0]}-${command}.log`);
    const wrapper = path.join(temp, "docker-wrapper.sh");
    await writeFile(wrapper, `#!/bin/sh\necho "$@" >> "$DOCKER_LOG"\nexit 1\n`);
    await chmod(wrapper, 0o755);
    const result = await runCli([command, "--preset", "full", "--source", server], {
      tempDir: temp,
      env: { ...env, TRITON_BUILD_DOCKER: wrapper, DOCKER_LOG: log },
    });
    expectCleanFailure(result, 2, message);
    expect(result.stderr).not.toMatch(/--cuda-arch '|--image '|--without '|--tag '|--remote-cache '/);
    expect(await readFile(log, "utf8").catch(() => "")).toBe("");
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
