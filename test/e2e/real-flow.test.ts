// Issue 13: the real r24.05 flow on a shared Docker daemon. The fixture onnxruntime backend builds
// ONNX Runtime with the host's Docker under the same fixed names as the real one
// (tritonserver_onnxruntime, onnxruntime_backend_ort); runs must not share them.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";
import { createWorld, parseNdjson, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let presetA: string;
let presetB: string;
const unique = randomBytes(3).toString("hex");
const versions = [`1.18.0.${unique}`, `1.18.1.${unique}`] as const;
/** Another build on the daemon, mid-way, under the fixed names (a plain build.py run, say). */
const foreign = { image: "tritonserver_onnxruntime", container: "onnxruntime_backend_ort", imageId: "", containerId: "" };

async function dockerOut(args: string[]): Promise<string> {
  return String((await execa("docker", args)).stdout).trim();
}

beforeAll(async () => {
  temp = await makeTempDir("tb-realflow-");
  world = await createWorld(temp, { orgTags: { onnxruntime_backend: ["ort-next"] } });
  // ONNX Runtime versions of this test only: Docker's layer cache of earlier test runs on this
  // daemon cannot serve the first builds.
  const ortPreset = (name: string, backend: string, version: string) =>
    world.preset(
      name,
      [
        "features: [logging]",
        "endpoints: [http]",
        `backends: [${backend}]`,
        "cmakeArgs:",
        "  backends:",
        "    onnxruntime:",
        `      override: {TRITON_BUILD_ONNXRUNTIME_VERSION: "${version}"}`,
        "",
      ].join("\n"),
    );
  presetA = await ortPreset("fixture-ort-a", "onnxruntime", versions[0]);
  presetB = await ortPreset("fixture-ort-b", "{name: onnxruntime, tag: ort-next}", versions[1]);
  const existing = await execa("docker", ["image", "inspect", foreign.image], { reject: false });
  const existingContainer = await execa("docker", ["container", "inspect", foreign.container], { reject: false });
  if (existing.exitCode === 0 || existingContainer.exitCode === 0) {
    throw new Error(`${foreign.image} or ${foreign.container} exists on this daemon already (someone's plain build.py run?): remove it first`);
  }
  await execa("docker", ["tag", FIXTURE_BASE_IMAGE, foreign.image]);
  foreign.imageId = await dockerOut(["image", "inspect", "-f", "{{.Id}}", foreign.image]);
  foreign.containerId = await dockerOut(["create", "--name", foreign.container, foreign.image]);
});
afterAll(async () => {
  if (foreign.containerId) await execa("docker", ["rm", "-f", foreign.containerId], { reject: false });
  const id = await execa("docker", ["image", "inspect", "-f", "{{.Id}}", foreign.image], { reject: false });
  if (foreign.imageId && String(id.stdout).trim() === foreign.imageId) await execa("docker", ["rmi", "--no-prune", foreign.image], { reject: false });
  await world?.cleanup();
  await removeTempDir(temp);
});

interface Run {
  result: CliResult;
  runId: string;
  ortLog: string;
}

async function build(preset: string, tag: string, workDir: string, extra: string[] = []): Promise<Run> {
  const result = await runCli(["--preset", preset, ...world.args(), "--tag", tag, "--work-dir", workDir, "--json", ...extra], { tempDir: temp });
  expect(result.exitCode, result.stderr).toBe(0);
  const start = parseNdjson(result.stdout).find((e) => e.type === "run-start");
  return { result, runId: String(start?.runId), ortLog: await readFile(path.join(workDir, "logs", "onnxruntime.log"), "utf8") };
}

async function ortVersionIn(tag: string): Promise<string> {
  return dockerOut(["run", "--rm", "--network", "none", "--entrypoint", "cat", tag, "/opt/tritonserver/backends/onnxruntime/ort_onnx_version.txt"]);
}

/** The nested build's "compile ONNX Runtime" step, and what Docker said about it. */
function compileStep(log: string): { step: string; next: string } {
  const lines = log.split("\n");
  const at = lines.findIndex((line) => /^Step \d+\/\d+ : RUN .*fixture_hash_mb 64/.test(line));
  expect(at, log).toBeGreaterThan(0);
  return { step: lines[at] ?? "", next: lines[at + 1] ?? "" };
}

describe("two runs on one daemon, both compiling onnxruntime (nested docker build)", () => {
  const tagA = () => world.tag("ort-a");
  const tagB = () => world.tag("ort-b");
  let first: [Run, Run];
  let tags: [string, string];

  it("both succeed at once, each image holds its own ONNX Runtime, and another build's fixed-name objects are untouched", async () => {
    tags = [tagA(), tagB()];
    first = await Promise.all([build(presetA, tags[0], path.join(temp, "a1")), build(presetB, tags[1], path.join(temp, "b1"))]);
    expect(await ortVersionIn(tags[0])).toBe(versions[0]);
    expect(await ortVersionIn(tags[1])).toBe(versions[1]);
    for (const [run, version] of [
      [first[0], versions[0]],
      [first[1], versions[1]],
    ] as const) {
      expect(run.ortLog).toContain(`ARG ONNXRUNTIME_VERSION=${version}`);
      expect(run.ortLog).toContain(`Successfully tagged triton-build/tritonserver_onnxruntime:${run.runId}-onnxruntime`);
      expect(run.ortLog).not.toMatch(/Successfully tagged tritonserver_onnxruntime\b/);
    }
    // The fixed names on the daemon still belong to whoever made them.
    expect(await dockerOut(["image", "inspect", "-f", "{{.Id}}", foreign.image])).toBe(foreign.imageId);
    expect(await dockerOut(["container", "inspect", "-f", "{{.Id}}", foreign.container])).toBe(foreign.containerId);
    // Nothing of either run is left: no nested container, no per-run tag.
    for (const run of first) {
      expect(await dockerOut(["ps", "-a", "--filter", `label=triton-build.run=${run.runId}`, "--format", "{{.Names}}"])).toBe("");
      expect(await dockerOut(["image", "ls", "--filter", `reference=triton-build/*:${run.runId}-*`, "--format", "{{.Repository}}:{{.Tag}}"])).toBe("");
    }
  });

  it("a second run of each reuses Docker's cached ONNX Runtime layers", async () => {
    expect(first, "needs the first test's runs").toBeDefined();
    // Neither run compiled ONNX Runtime from cache the first time.
    for (const run of first) expect(compileStep(run.ortLog).next).not.toMatch(/Using cache/);
    // --no-cache: the component compiles again (the component cache would skip it), and Docker's
    // layer cache serves its nested ONNX Runtime build.
    const second = await Promise.all([
      build(presetA, tags[0], path.join(temp, "a2"), ["--no-cache"]),
      build(presetB, tags[1], path.join(temp, "b2"), ["--no-cache"]),
    ]);
    for (const run of second) expect(compileStep(run.ortLog).next).toBe(" ---> Using cache");
    expect(await ortVersionIn(tags[0])).toBe(versions[0]);
    expect(await ortVersionIn(tags[1])).toBe(versions[1]);
  });
});

describe("component repositories that cannot be read", () => {
  it("build says so in one warning line naming the fix, and still builds", async () => {
    const preset = await world.preset("fixture-identity", "features: [logging]\nendpoints: [http]\nbackends: [identity]\n");
    const missingOrg = pathToFileURL(path.join(temp, "no-such-org")).href;
    const result = await runCli(
      ["--preset", preset, "--source", world.server.path, "--github-organization", missingOrg, "--no-pull", "--tag", world.tag("unreachable")],
      {
        tempDir: temp,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const warnings = `${result.stdout}\n${result.stderr}`.split("\n").filter((line) => /cache keys need the component repositories/.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/pass --github-organization URL\b/);
  });
});
