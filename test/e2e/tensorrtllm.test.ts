import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";
import { createWorld, imageFiles, parseNdjson, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let preset: string;
const noLfsImage = "triton-build-test/base-without-git-lfs:24.05";

beforeAll(async () => {
  temp = await makeTempDir("tb-trtllm-e2e-");
  world = await createWorld(temp, { fixtureJson: `{\n  "default": 20,\n  "tensorrtllm_wheel": 20\n}\n` });
  preset = await world.preset("trtllm", "features: [gpu]\nendpoints: [http]\nbackends: [ensemble, python, {name: tensorrtllm, tag: v0.9.0}]\n");
  const ctx = path.join(temp, "no-lfs");
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, "Dockerfile"), `FROM ${FIXTURE_BASE_IMAGE}\nRUN touch /etc/triton-build-fixture-no-git-lfs\n`);
  await execa("docker", ["build", "-q", "-t", noLfsImage, ctx]);
});
afterAll(async () => {
  await execa("docker", ["rmi", noLfsImage], { reject: false });
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("TensorRT-LLM builds on the real engine", () => {
  it("the CUDA architectures and the job count reach build_wheel.py", async () => {
    const tag = world.tag("trtllm");
    const workDir = path.join(temp, "work-trtllm");
    const result = await runCli(
      ["--preset", preset, ...world.args(), "--no-cache", "--cuda-arch", "80-real;90-real", "--jobs", "3", "--tag", tag, "--work-dir", workDir],
      {
        tempDir: temp,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("CUDA architectures 80-real;90-real, from --cuda-arch");
    const log = await readFile(path.join(workDir, "logs", "tensorrtllm.log"), "utf8");
    expect(log).toContain("build_wheel args: --trt_root /usr/local/tensorrt --cuda_architectures 80-real;90-real --job_count 3");
    expect(log).toMatch(/building backend 'tensorrtllm' \(tag v0\.9\.0, 3 jobs/);
    // The fixture clone has TensorRT-LLM as a submodule whose batch manager library is in Git LFS
    // (as v0.9.0 has); the rewritten section sets LFS up before the clone and pulls after it.
    expect(log).toContain("Git LFS initialized.");
    expect(log).toContain("Entering 'tensorrt_llm'");
    expect(log).not.toContain("The batch manager library is truncated or incomplete");
    const files = [...(await imageFiles(tag)).keys()];
    expect(files).toEqual(expect.arrayContaining(["backends/tensorrtllm/libtriton_tensorrtllm.so", "backends/tensorrtllm/triton_tensorrtllm_worker"]));
  });

  it("a build image without git-lfs is refused before anything compiles", async () => {
    const result = await runCli(["--preset", preset, ...world.args(), "--no-cache", "--image", `base=${noLfsImage}`, "--json"], { tempDir: temp });
    expectCleanFailure(result, 3, `the build image (from ${noLfsImage}) has no git-lfs`);
    expect(result.stderr).toContain("hint: use the preset's base image recipe (it installs git-lfs)");
    expect(parseNdjson(result.stdout).filter((e) => e.type === "component-start")).toEqual([]);
  });
});
