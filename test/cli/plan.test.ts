import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createFixtureOrg, createFixtureServerRepo, FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";

let temp: string;
let server: { path: string; commit: string };
let orgUrl: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-plan-");
  server = await createFixtureServerRepo(path.join(temp, "server"));
  orgUrl = (await createFixtureOrg(path.join(temp, "org"))).url;
});
afterAll(() => removeTempDir(temp));

/** Sections as build.py wrote them, read with a plain regex (independent of our parser). */
async function sectionsWritten(cmakeBuildPath: string): Promise<Array<{ name: string; kind: string }>> {
  const text = await readFile(cmakeBuildPath, "utf8");
  const kinds: Record<string, string> = { backend: "backend", "repository agent": "repoagent", cache: "cache" };
  const sections: Array<{ name: string; kind: string }> = [];
  for (const line of text.split("\n")) {
    if (line === "# end Triton core library and tritonserver executable") sections.push({ name: "core", kind: "core" });
    else if (line === "# end Triton CI artifacts") sections.push({ name: "ci", kind: "ci" });
    const match = /^# end '([^']+)' (backend|repository agent|cache)$/.exec(line);
    if (match?.[1] && match[2]) sections.push({ name: match[1], kind: kinds[match[2]] ?? "?" });
  }
  return sections;
}

async function planJson(preset: string, extra: string[] = []) {
  const workDir = path.join(temp, `work-${preset}-${Math.random().toString(16).slice(2)}`);
  const result = await runCli(
    ["plan", "--preset", preset, "--source", server.path, "--github-organization", orgUrl, "--work-dir", workDir, "--json", ...extra],
    { tempDir: temp },
  );
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return { plan: JSON.parse(result.stdout), workDir };
}

describe("plan --json against the fixture server repo", () => {
  const cases: Array<[string, string[], string[]]> = [
    ["trtllm-plus-onnx", [`--image=base=${FIXTURE_BASE_IMAGE}`], ["core", "python", "onnxruntime", "tensorrtllm", "ci"]],
    ["llm-plus-vision", [], ["core", "python", "vllm", "onnxruntime", "tensorrt", "pytorch", "dali", "ci"]],
    [
      "full",
      [],
      [
        "core",
        "identity",
        "square",
        "repeat",
        "tensorflow",
        "onnxruntime",
        "python",
        "dali",
        "pytorch",
        "openvino",
        "fil",
        "tensorrt",
        "checksum",
        "local",
        "redis",
        "ci",
      ],
    ],
  ];

  for (const [preset, extra, expected] of cases) {
    it(`${preset}: components equal the sections build.py wrote`, async () => {
      const { plan, workDir } = await planJson(preset, extra);
      const written = await sectionsWritten(path.join(workDir, "server", "build", "cmake_build"));
      expect(plan.components.map((c: { name: string; kind: string }) => ({ name: c.name, kind: c.kind }))).toEqual(written);
      expect(written.map((s) => s.name)).toEqual(expected);
      expect(plan.preset).toBe(preset);
      expect(plan.source).toEqual({ url: server.path, ref: "r24.05", commit: server.commit });
      expect(plan.buildpy.argv[0]).toBe("--no-container-interactive");
      expect(plan.buildpy.argv).toContain(`--github-organization=${orgUrl}`);
      expect(plan.components.find((c: { name: string }) => c.name === "ci").action).toBe("skip");
    });
  }

  it("component repositories that cannot be read: one warning line naming the fix, short reasons", async () => {
    // A mirrored server and an organisation URL that has none of the repositories (as GitHub is
    // for a site without internet access).
    const missingOrg = pathToFileURL(path.join(temp, "no-such-org")).href;
    const workDir = path.join(temp, "work-unreachable-org");
    const args = ["plan", "--preset", "full", "--source", server.path, "--github-organization", missingOrg, "--work-dir", workDir];
    const text = await runCli(args, { tempDir: temp });
    expect(text.exitCode).toBe(0);
    const warnings = text.stderr.split("\n").filter(Boolean);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: cache keys need the component repositories: pass --github-organization URL\b/);
    expect(warnings[0]).toContain(`at ${missingOrg} cannot be read (`);
    const rows = text.stdout.split("\n").filter((line) => /^ {2}\S+\s+(core|backend|repoagent|cache)\s/.test(line));
    expect(rows.length).toBe(15);
    for (const row of rows) {
      expect(row).toMatch(/ miss .*\(repository unreachable\)\)$/);
      expect(row.length).toBeLessThan(200);
    }
    const json = await runCli([...args, "--json"], { tempDir: temp });
    expect(json.stderr.split("\n").filter(Boolean)).toEqual(warnings);
    expect(JSON.parse(json.stdout).warnings).toEqual([warnings[0]?.slice("warning: ".length)]);
  });

  it("records the tag each component clones", async () => {
    const { plan } = await planJson("trtllm-onnx", [`--image=base=${FIXTURE_BASE_IMAGE}`]);
    const tags = Object.fromEntries(plan.components.map((c: { name: string; tag: string | null }) => [c.name, c.tag]));
    expect(tags).toEqual({ core: "r24.05", python: "r24.05", onnxruntime: "r24.05", tensorrtllm: "v0.9.0", ci: null });
  });

  it("full builds the same sections as build.py --enable-all", async () => {
    const { workDir } = await planJson("full");
    const fromPreset = await sectionsWritten(path.join(workDir, "server", "build", "cmake_build"));
    await execa("python3", ["build.py", "--dryrun", "--no-container-interactive", "--enable-all", `--github-organization=${orgUrl}`], {
      cwd: path.join(workDir, "server"),
    });
    expect(await sectionsWritten(path.join(workDir, "server", "build", "cmake_build"))).toEqual(fromPreset);
  });

  it("--ci-image keeps the CI section", async () => {
    const { plan } = await planJson("llm-plus-vision", ["--ci-image"]);
    expect(plan.components.find((c: { name: string }) => c.name === "ci").action).toBe("build");
  });

  it("prints a readable plan with the copy-pasteable build.py command", async () => {
    const result = await runCli(["plan", "-p", "llm-plus-vision", "--source", server.path, "--github-organization", orgUrl], { tempDir: temp });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`r24.05 -> ${server.commit}`);
    expect(result.stdout).toMatch(/python3 build.py --no-container-interactive --build-parallel=\d+ --enable-gpu/);
    expect(result.stdout).toMatch(/vllm\s+backend\s+r24\.05\s+miss\s+\S+\s+build \(/);
  });

  it("a second plan works from the mirror with --offline", async () => {
    const result = await runCli(["plan", "-p", "full", "--source", server.path, "--offline", "--json"], { tempDir: temp });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).source.commit).toBe(server.commit);
  });
});

describe("bad input: one clear message, the right exit code, no stack trace", () => {
  const plan = (args: string[], env?: Record<string, string>) =>
    runCli(["plan", "--source", server.path, "--github-organization", orgUrl, ...args], { tempDir: temp, ...(env ? { env } : {}) });

  it("unknown preset", async () => {
    expectCleanFailure(await plan(["--preset", "trtllm-onx"]), 2, "unknown preset 'trtllm-onx'");
  });

  it("YAML syntax error, with the line", async () => {
    const file = path.join(temp, "broken.yaml");
    await writeFile(file, `release: "24.05"\nbackends:\n  - python\n  bad: : x\n`);
    expectCleanFailure(await plan(["--preset", file]), 2, `${file}:4:1: YAML syntax error`);
  });

  it("unknown backend, endpoint and filesystem", async () => {
    const file = path.join(temp, "names.yaml");
    await writeFile(file, `release: "24.05"\nbackends: [onxruntime]\nendpoints: [websocket]\nfilesystems: [hdfs]\n`);
    const result = await plan(["--preset", file]);
    expectCleanFailure(result, 2, "unknown backend 'onxruntime'");
    expect(result.stderr).toContain("unknown endpoint 'websocket'");
    expect(result.stderr).toContain("unknown filesystem 'hdfs'");
    expectCleanFailure(await plan(["--preset", "full", "--backend", "tensorflow1x"]), 2, "--backend 'tensorflow1x': unknown backend");
  });

  it("extends cycle", async () => {
    await writeFile(path.join(temp, "a.yaml"), `release: "24.05"\nextends: ./b.yaml\n`);
    await writeFile(path.join(temp, "b.yaml"), `extends: ./a.yaml\n`);
    expectCleanFailure(await plan(["--preset", path.join(temp, "a.yaml")]), 2, "extends cycle: a.yaml -> b.yaml -> a.yaml");
  });

  it("nonexistent ref names the ref and the source", async () => {
    expectCleanFailure(await plan(["--preset", "full", "--ref", "r99.99"]), 2, `ref 'r99.99' not found in ${server.path}`);
  });

  it("unreachable source", async () => {
    const missing = path.join(temp, "no-such-server");
    expectCleanFailure(await runCli(["plan", "--preset", "full", "--source", missing], { tempDir: temp }), 2, `source ${missing} does not exist`);
    expectCleanFailure(
      await runCli(["plan", "--preset", "full", "--source", "https://git.invalid/server.git"], { tempDir: temp }),
      3,
      "cannot reach source https://git.invalid/server.git",
    );
  });

  it("python3 missing", async () => {
    expectCleanFailure(await plan(["--preset", "full", "--python", "/nonexistent/python3"]), 3, "python interpreter '/nonexistent/python3' not found");
  });

  it("python3 without requests", async () => {
    // -S leaves out site-packages, where requests is installed: the same as an interpreter without it.
    const bin = path.join(temp, "bin");
    await mkdir(bin, { recursive: true });
    const noRequests = path.join(bin, "python3-no-requests");
    await writeFile(noRequests, `#!/bin/sh\nexec python3 -S "$@"\n`);
    await chmod(noRequests, 0o755);
    expectCleanFailure(await plan(["--preset", "full", "--python", noRequests]), 3, "cannot import the Python package 'requests'");
  });

  it("build.py's own error line becomes a usage error", async () => {
    expectCleanFailure(
      await plan(["--preset", "full", "--buildpy-arg=--build-dir=/tmp/x"]),
      2,
      "build.py rejected the command line: --build-dir must not be set for container-based build",
    );
  });

  it("an option value from the environment that is not valid", async () => {
    expectCleanFailure(await plan(["--preset", "full"], { TRITON_BUILD_JOBS: "many" }), 2, "TRITON_BUILD_JOBS: 'many' is not a positive decimal integer");
  });
});

describe("presets and config commands", () => {
  it("presets list shows the three presets and the alias", async () => {
    const result = await runCli(["presets", "list"], { tempDir: temp });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^full\s/m);
    expect(result.stdout).toMatch(/^llm-plus-vision\s/m);
    expect(result.stdout).toMatch(/^trtllm-plus-onnx\s+trtllm-onnx\s/m);
  });

  it("config set, get, list, and a value used as a default", async () => {
    expect((await runCli(["config", "set", "source", server.path], { tempDir: temp })).exitCode).toBe(0);
    expect((await runCli(["config", "get", "source"], { tempDir: temp })).stdout.trim()).toBe(server.path);
    expect((await runCli(["config", "list"], { tempDir: temp })).stdout).toMatch(/source\s+\S+\s+TRITON_BUILD_SOURCE/);
    const result = await runCli(["plan", "-p", "full", "--json"], { tempDir: temp });
    expect(JSON.parse(result.stdout).source.url).toBe(server.path);
    expectCleanFailure(await runCli(["config", "set", "jobs", "0"], { tempDir: temp }), 2, "config jobs: '0' is not a positive decimal integer");
    expectCleanFailure(await runCli(["config", "get", "sorce"], { tempDir: temp }), 2, "did you mean 'source'?");
    expect((await runCli(["config", "unset", "source"], { tempDir: temp })).exitCode).toBe(0);
  });

  it("every command has --help with an example", async () => {
    const commands = [
      [],
      ["build"],
      ["plan"],
      ["presets"],
      ["presets", "list"],
      ["presets", "show"],
      ["config"],
      ["config", "set"],
      ["doctor"],
      ["completion"],
    ];
    for (const command of commands) {
      const result = await runCli([...command, "--help"], { tempDir: temp });
      expect(result.exitCode, command.join(" ")).toBe(0);
      // An example may come under a `# what it does` comment line.
      expect(result.stdout, command.join(" ")).toMatch(/Examples?:\n(\s+# .*\n)?\s+(triton-build |source <\(triton-build )/);
    }
  });
});
