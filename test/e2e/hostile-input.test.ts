// Values that reach build.py's generated cmake_build, which bash runs in a builder container that
// holds the Docker socket. Each injection vector is crafted by hand and sent through a real build
// of the fixture world: it must be refused with exit 2, naming the value and where it came from,
// before anything runs in Docker (a docker CLI wrapper logs every call) and without a trace of its
// payload. A control shows that the same kind of payload does run when it reaches the script
// (through --buildpy-arg, the documented raw pass-through), so the refusals are not vacuous.
import { randomBytes } from "node:crypto";
import { access, chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { containersNamed, createWorld, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let dockerLog: string;
let wrapper: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-hostile-");
  world = await createWorld(temp);
  dockerLog = path.join(temp, "docker-calls.log");
  wrapper = path.join(temp, "docker");
  // Every docker command the CLI runs goes through TRITON_BUILD_DOCKER: log it, then run it.
  await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dockerLog}'\nexec docker "$@"\n`);
  await chmod(wrapper, 0o755);
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A marker path no run could create by chance; the payloads try to make it. */
function marker(): string {
  return `/tmp/tb-injected-${randomBytes(4).toString("hex")}`;
}

/** `mkdir -p DIR` spelled without spaces, as an attacker would (bash splits ${IFS}). */
const mkdirPayload = (dir: string) => `mkdir\${IFS}-p\${IFS}${dir}`;

interface Vector {
  what: string;
  /** Extra CLI arguments; the preset body (YAML after release and base image). */
  args?: (m: string) => string[];
  env?: (m: string) => Record<string, string>;
  preset?: (m: string) => string;
  /** The config file's content (as if edited by hand, past `config set`'s check). */
  config?: (m: string) => Record<string, unknown>;
  /** The vector sets the organisation itself (env, config): the world's --github-organization flag would win over it. */
  ownOrganization?: boolean;
  /** What stderr must say: the origin and the value. */
  says: (m: string, presetFile: string) => string;
}

const VECTORS: Vector[] = [
  {
    what: "a backend tag on the command line (the issue's vector)",
    args: (m) => ["--backend", `onnxruntime:r24.05;${mkdirPayload(m)};#`],
    says: (m) => `--backend 'onnxruntime:r24.05;${mkdirPayload(m)};#': tag 'r24.05;${mkdirPayload(m)};#' contains ';', a shell metacharacter`,
  },
  {
    what: "a backend tag from the environment",
    env: (m) => ({ TRITON_BUILD_BACKEND: `python:$(${mkdirPayload(m)})` }),
    says: (m) => `TRITON_BUILD_BACKEND 'python:$(${mkdirPayload(m)})': tag '$(${mkdirPayload(m)})' contains '$', a shell metacharacter`,
  },
  {
    what: "a backend tag in a preset file",
    preset: (m) => `backends:\n  - ensemble\n  - {name: python, tag: "\`${mkdirPayload(m)}\`"}\n`,
    says: (m, file) => `${file}:6:25: backends[1].tag: '\`${mkdirPayload(m)}\`' contains '\`', a shell metacharacter`,
  },
  {
    what: "a repository agent tag that git would take as an option",
    preset: () => "backends: [python]\nrepoAgents: ['checksum:--upload-pack=touch']\n",
    says: (_m, file) => `${file}:5:14: repoAgents[0]: tag '--upload-pack=touch' starts with '-', which git would read as an option`,
  },
  {
    what: "a core CMake value in a preset file",
    preset: (m) => `backends: [python]\ncmakeArgs:\n  core:\n    extra: {TRITON_X: "$(${mkdirPayload(m)})"}\n`,
    says: (m, file) => `${file}:7:23: cmakeArgs.core.extra.TRITON_X: '$(${mkdirPayload(m)})' contains '$', which bash expands inside build.py's double quotes`,
  },
  {
    what: "a backend CMake value with a backquote in a preset file",
    preset: (m) => `backends: [python]\ncmakeArgs:\n  backends:\n    python: {override: {X: "\`${mkdirPayload(m)}\`"}}\n`,
    says: (m, file) => `${file}:7:28: cmakeArgs.backends.python.override.X: '\`${mkdirPayload(m)}\`' contains '\`', which bash expands`,
  },
  {
    what: "a CMake name with a quote in a preset file",
    preset: (m) => `backends: [python]\ncmakeArgs:\n  core:\n    extra: {'A";${mkdirPayload(m)};"': x}\n`,
    says: (m, file) => `${file}:7:13: cmakeArgs.core.extra: 'A";${mkdirPayload(m)};"' is not a CMake variable name`,
  },
  {
    // Not a shell word: git ls-remote (cache keys, on this machine) would read it as --exec and run it.
    what: "an organisation override in a preset's cmakeArgs that git would take for an option",
    preset: (m) => `backends: [python]\ncmakeArgs:\n  core:\n    override: {TRITON_REPO_ORGANIZATION: "--exec=>${m};true"}\n`,
    says: (m, file) => `${file}:7:42: cmakeArgs.core.override.TRITON_REPO_ORGANIZATION: '--exec=>${m};true' starts with '-', which git would read as an option`,
  },
  {
    what: "a repo tag in a preset file",
    preset: (m) => `backends: [python]\nrepoTags: {core: "r24.05$(${mkdirPayload(m)})"}\n`,
    says: (m, file) => `${file}:5:18: repoTags.core: 'r24.05$(${mkdirPayload(m)})' contains '$', a shell metacharacter`,
  },
  {
    what: "a minimum compute capability in a preset file",
    preset: (m) => `backends: [python]\nminComputeCapability: "6.0$(${mkdirPayload(m)})"\n`,
    says: (m, file) => `${file}:5:23: minComputeCapability: '6.0$(${mkdirPayload(m)})' is not a compute capability`,
  },
  {
    what: "a build.py argument in a preset file",
    preset: (m) => `backends: [python]\nbuildpyArgs: ["--backend=python:$(${mkdirPayload(m)})"]\n`,
    says: (m, file) => `${file}:5:15: buildpyArgs[0]: '--backend=python:$(${mkdirPayload(m)})' contains '$', a shell metacharacter`,
  },
  {
    what: "the organisation on the command line",
    args: (m) => ["--github-organization", `${world.orgUrl};${mkdirPayload(m)};#`],
    says: (m) => `--github-organization: '${world.orgUrl};${mkdirPayload(m)};#' contains ';', a shell metacharacter`,
  },
  {
    what: "the organisation from the environment",
    env: (m) => ({ TRITON_BUILD_GITHUB_ORGANIZATION: `${world.orgUrl}/$(${mkdirPayload(m)})` }),
    ownOrganization: true,
    says: (m) => `TRITON_BUILD_GITHUB_ORGANIZATION: '${world.orgUrl}/$(${mkdirPayload(m)})' contains '$', a shell metacharacter`,
  },
  {
    what: "the organisation in the config file",
    config: (m) => ({ githubOrganization: `${world.orgUrl}|${mkdirPayload(m)}` }),
    ownOrganization: true,
    says: (m) => `config githubOrganization: '${world.orgUrl}|${mkdirPayload(m)}' contains '|', a shell metacharacter`,
  },
  {
    what: "the organisation in a preset file",
    preset: (m) => `backends: [python]\ngithubOrganization: "https://github.com/x&&${mkdirPayload(m)}"\n`,
    says: (m, file) => `${file}:5:21: githubOrganization: 'https://github.com/x&&${mkdirPayload(m)}' contains '&', a shell metacharacter`,
  },
  {
    what: "an option-like server ref",
    args: (m) => ["--ref", `--upload-pack=touch ${m}`],
    says: (m) => `--ref: '--upload-pack=touch ${m}' starts with '-', which git would read as an option`,
  },
  {
    what: "a hexadecimal job count",
    args: () => ["--jobs", "0x10"],
    says: () => "--jobs: '0x10' is not a positive decimal integer; expected a whole number of jobs from 1 to 1024",
  },
  {
    what: "a job count out of range",
    args: () => ["--jobs", "99999999999"],
    says: () => "--jobs: '99999999999' is more than 1024 jobs",
  },
  {
    what: "a CUDA architecture list with a command in it",
    args: (m) => ["--cuda-arch", `90-real;$(${mkdirPayload(m)})`],
    says: (m) => `--cuda-arch '90-real;$(${mkdirPayload(m)})': '$(${mkdirPayload(m)})' is not a CUDA architecture`,
  },
  {
    what: "the same list from the environment",
    env: (m) => ({ TRITON_BUILD_CUDA_ARCH: `90-real;$(${mkdirPayload(m)})` }),
    says: (m) => `TRITON_BUILD_CUDA_ARCH '90-real;$(${mkdirPayload(m)})': '$(${mkdirPayload(m)})' is not a CUDA architecture`,
  },
  {
    what: "an image reference with a command in it",
    args: (m) => ["--image", `base=x;${mkdirPayload(m)}`],
    says: (m) => `--image 'base=x;${mkdirPayload(m)}': 'x;${mkdirPayload(m)}' is not a valid image reference`,
  },
  {
    what: "the same reference from the environment",
    env: (m) => ({ TRITON_BUILD_IMAGE: `base=x;${mkdirPayload(m)}` }),
    says: (m) => `TRITON_BUILD_IMAGE 'base=x;${mkdirPayload(m)}': 'x;${mkdirPayload(m)}' is not a valid image reference`,
  },
];

describe("hostile values are refused before anything runs in Docker", () => {
  it.each(VECTORS.map((v) => [v.what, v] as const))("%s", async (_what, vector) => {
    const m = marker();
    const id = randomBytes(3).toString("hex");
    const presetName = `hostile-${id}`;
    const presetFile = await world.preset(presetName, vector.preset?.(m) ?? "backends: [python]\n");
    const workDir = path.join(temp, `work-${id}`);
    const configDir = path.join(temp, `config-${id}`);
    if (vector.config) {
      await mkdir(configDir, { recursive: true });
      await writeFile(path.join(configDir, "config.json"), JSON.stringify(vector.config(m)));
    }
    await writeFile(dockerLog, "");
    const tag = world.tag(presetName);
    const worldArgs = vector.ownOrganization ? ["--source", world.server.path, "--no-pull"] : world.args();
    const result = await runCli(["--preset", presetFile, ...worldArgs, "--work-dir", workDir, "--tag", tag, "--json", ...(vector.args?.(m) ?? [])], {
      tempDir: temp,
      env: { TRITON_BUILD_DOCKER: wrapper, TRITON_BUILD_CONFIG_DIR: configDir, ...(vector.env?.(m) ?? {}) },
    });
    expectCleanFailure(result, 2, vector.says(m, presetFile));
    // Nothing started: no run event, no docker command at all, no work dir, no container, no marker.
    expect(result.stdout).toBe("");
    expect(await readFile(dockerLog, "utf8")).toBe("");
    expect(await exists(workDir)).toBe(false);
    expect(await containersNamed(presetName)).toEqual([]);
    expect(await exists(m)).toBe(false);
  });

  it("bytes that are not UTF-8 in a tag, from argv and from the environment, are refused, not turned into U+FFFD", async () => {
    const presetFile = await world.preset(`latin1-${randomBytes(3).toString("hex")}`, "backends: [python]\n");
    // Node cannot put such bytes into argv itself; bash does, as a terminal in ISO-8859-1 would.
    const args = ["--preset", presetFile, ...world.args(), "--work-dir", path.join(temp, "work-latin1"), "--json"].map((a) => `'${a}'`).join(" ");
    for (const script of [
      `exec node '${CLI}' ${args} --backend "python:r24.05$(printf '\\351')"`,
      `TRITON_BUILD_BACKEND="python:r$(printf '\\351')" exec node '${CLI}' ${args}`,
    ]) {
      await writeFile(dockerLog, "");
      const run = await execa("bash", ["-c", script], { env: { ...cliEnv(temp), TRITON_BUILD_DOCKER: wrapper }, extendEnv: false, reject: false });
      const result = { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr), durationMs: 0 };
      expectCleanFailure(result, 2, "holds bytes that are not valid UTF-8 (shown as U+FFFD)");
      expect(result.stdout).toBe("");
      expect(await readFile(dockerLog, "utf8")).toBe("");
    }
  });
});

describe("control: --buildpy-arg is the raw pass-through to build.py", () => {
  it("a payload given there reaches cmake_build and runs in the builder", async () => {
    const name = `injected-${randomBytes(4).toString("hex")}`;
    const workDir = path.join(temp, "work-control");
    const presetFile = await world.preset(`control-${randomBytes(3).toString("hex")}`, "backends: [ensemble, python]\n");
    // python's builder's install tree is copied back to the work dir (parts/python, kept with
    // --keep-work-dir): a directory the payload made there shows it ran.
    const payload = `--backend=python:r24.05$(${mkdirPayload(`/tmp/tritonbuild/install/${name}`)})`;
    const result = await runCli(
      [
        "--preset",
        presetFile,
        ...world.args(),
        "--no-cache",
        "--keep-work-dir",
        "--work-dir",
        workDir,
        "--tag",
        world.tag("control"),
        `--buildpy-arg=${payload}`,
      ],
      { tempDir: temp },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await readFile(path.join(workDir, "scripts", "cmake_build.python"), "utf8")).toContain(
      `-b r24.05$(${mkdirPayload(`/tmp/tritonbuild/install/${name}`)})`,
    );
    expect(await exists(path.join(workDir, "parts", "python", "install", name))).toBe(true);
  });
});
