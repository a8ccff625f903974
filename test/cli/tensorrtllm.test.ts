import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createFixtureOrg, createFixtureServerRepo, FIXTURE_BASE_IMAGE, FIXTURE_SERVER_TEMPLATE } from "../helpers/fixture-repo.js";

let temp: string;
let args: string[];
let sourceArgs: string[];
let orgUrl: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-trtllm-");
  const server = await createFixtureServerRepo(path.join(temp, "server"));
  const org = await createFixtureOrg(path.join(temp, "org"));
  orgUrl = org.url;
  sourceArgs = ["--source", server.path, "--github-organization", orgUrl];
  args = ["plan", "--preset", "trtllm-onnx", "--image", `base=${FIXTURE_BASE_IMAGE}`, ...sourceArgs];
});
afterAll(() => removeTempDir(temp));

/**
 * A PATH whose nvidia-smi prints the given compute capabilities (or fails like one without GPUs).
 * It answers only the query triton-build must make; other arguments fail, as an unknown field
 * does for the real one.
 */
async function fakeNvidiaSmi(name: string, script: string): Promise<Record<string, string>> {
  const bin = path.join(temp, `bin-${name}`);
  await mkdir(bin, { recursive: true });
  const expectArg = (arg: string) => `case " $* " in *" ${arg} "*) ;; *) echo "fake nvidia-smi: expected ${arg}, got: $*" >&2; exit 64;; esac`;
  await writeFile(path.join(bin, "nvidia-smi"), `#!/bin/sh\n${expectArg("--query-gpu=compute_cap")}\n${expectArg("--format=csv,noheader")}\n${script}\n`);
  await chmod(path.join(bin, "nvidia-smi"), 0o755);
  return { PATH: `${bin}:${process.env.PATH ?? ""}` };
}

async function planSettings(extra: string[], env: Record<string, string> = {}) {
  const result = await runCli([...args, "--json", ...extra], { tempDir: temp, env });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as {
    settings: { jobs: number; cudaArch?: string };
    components: Array<{ name: string; action: string; key?: string | null; buildWheel?: string }>;
  };
}

describe("--cuda-arch and --jobs for TensorRT-LLM", () => {
  it("plan --cuda-arch 90-real shows the setting and the build_wheel.py line", async () => {
    const text = await runCli([...args, "--cuda-arch", "90-real"], { tempDir: temp });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain("CUDA       CUDA architectures 90-real, from --cuda-arch");
    expect(text.stdout).toMatch(
      /TensorRT-LLM wheel: python3 \.\.\/tensorrt_llm\/scripts\/build_wheel\.py --trt_root \/usr\/local\/tensorrt --cuda_architectures "90-real" --job_count \d+/,
    );
    const json = await planSettings(["--cuda-arch", "90-real", "--jobs", "3"]);
    expect(json.settings).toMatchObject({ jobs: 3, cudaArch: "90-real" });
    expect(json.components.find((c) => c.name === "tensorrtllm")?.buildWheel).toBe(
      `python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt --cuda_architectures "90-real" --job_count 3`,
    );
  });

  it("--jobs reaches build.py's -j too; without it a default is chosen and said", async () => {
    const json = (await runCli([...args, "--json", "--jobs", "5"], { tempDir: temp })).stdout;
    expect(JSON.parse(json).buildpy.argv).toContain("--build-parallel=5");
    const text = await runCli(args, { tempDir: temp });
    expect(text.stdout).toMatch(/Jobs {7}\d+ parallel job\(s\), limited by .*; set --jobs to change/);
  });

  it("a different --cuda-arch changes the cache key of tensorrtllm only, through the plan a build makes", async () => {
    const keys = async (cudaArch: string) => {
      const { components } = await planSettings(["--cuda-arch", cudaArch, "--jobs", "2"]);
      return new Map(components.filter((c) => c.action !== "skip").map((c) => [c.name, c.key]));
    };
    const one = await keys("90-real");
    const two = await keys("80-real;90-real");
    expect([...one.keys()]).toEqual(["core", "python", "onnxruntime", "tensorrtllm"]);
    for (const [name, key] of one) {
      expect(key, name).toMatch(/^[0-9a-f]{64}$/);
      if (name === "tensorrtllm") expect(two.get(name), name).not.toBe(key);
      else expect(two.get(name), name).toBe(key);
    }
  });

  it("the fake nvidia-smi refuses a query other than the compute capability one", async () => {
    const env = await fakeNvidiaSmi("strict", `echo "9.0"`);
    const wrong = await execa("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { env: { ...process.env, ...env }, reject: false });
    expect(wrong.exitCode).toBe(64);
    const right = await execa("nvidia-smi", ["--query-gpu=compute_cap", "--format=csv,noheader"], { env: { ...process.env, ...env }, reject: false });
    expect(right.stdout).toBe("9.0");
  });

  it("auto with one GPU", async () => {
    const env = await fakeNvidiaSmi("one", `echo "9.0"`);
    expect((await planSettings(["--cuda-arch", "auto"], env)).settings.cudaArch).toBe("90-real");
  });

  it("auto with two GPUs of different capability", async () => {
    const env = await fakeNvidiaSmi("two", `printf '9.0\\n8.6\\n9.0\\n'`);
    expect((await planSettings(["--cuda-arch", "auto"], env)).settings.cudaArch).toBe("86-real;90-real");
  });

  it("auto with no GPU fails with a clear message", async () => {
    const env = await fakeNvidiaSmi("none", `echo "No devices were found"; exit 6`);
    expectCleanFailure(
      await runCli([...args, "--cuda-arch", "auto"], { tempDir: temp, env }),
      3,
      "--cuda-arch auto: nvidia-smi found no usable GPU (No devices were found)",
    );
  });

  it("a bad list is a usage error", async () => {
    expectCleanFailure(await runCli([...args, "--cuda-arch", "9.0"], { tempDir: temp }), 2, "'9.0' is not a CUDA architecture");
  });
});

describe("a server whose tensorrtllm section has no build_wheel.py line", () => {
  let otherArgs: string[];
  beforeAll(async () => {
    const buildpy = await readFile(path.join(FIXTURE_SERVER_TEMPLATE, "build.py"), "utf8");
    expect(buildpy).toContain("scripts/build_wheel.py");
    const server = await createFixtureServerRepo(path.join(temp, "server-no-wheel"), {
      extraFiles: { "build.py": buildpy.replaceAll("scripts/build_wheel.py", "scripts/make_wheel.py") },
    });
    otherArgs = ["plan", "--preset", "trtllm-onnx", "--image", `base=${FIXTURE_BASE_IMAGE}`, "--source", server.path, "--github-organization", orgUrl];
  });

  it("--cuda-arch or --jobs would never reach the build: a usage error naming it", async () => {
    expectCleanFailure(
      await runCli([...otherArgs, "--cuda-arch", "90-real"], { tempDir: temp }),
      2,
      "has no build_wheel.py line, so --cuda-arch 90-real cannot reach TensorRT-LLM's build",
    );
    expectCleanFailure(
      await runCli([...otherArgs, "--jobs", "3"], { tempDir: temp }),
      2,
      "has no build_wheel.py line, so --jobs 3 cannot reach TensorRT-LLM's build",
    );
  });

  it("without them, a warning that the default job count does not reach it", async () => {
    const result = await runCli(otherArgs, { tempDir: temp });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("warning: the tensorrtllm section of cmake_build has no build_wheel.py line");
  });
});

describe("--cuda-arch is checked whatever the preset and the strategy", () => {
  it("native is refused, pointing to auto", async () => {
    const result = await runCli([...args, "--cuda-arch", "native"], { tempDir: temp });
    expectCleanFailure(result, 2, "--cuda-arch 'native': native needs a GPU to detect, and the build runs in a container without one");
    expect(result.stderr).toContain("use --cuda-arch auto");
  });

  it("a bad value is refused for a preset without TensorRT-LLM and for compose", async () => {
    expectCleanFailure(
      await runCli(["plan", "--preset", "full", ...sourceArgs, "--cuda-arch", "garbage"], { tempDir: temp }),
      2,
      "'garbage' is not a CUDA architecture",
    );
    expectCleanFailure(
      await runCli(["plan", "--preset", "trtllm-onnx", "--strategy", "compose", "--cuda-arch", "garbage"], { tempDir: temp }),
      2,
      "'garbage' is not a CUDA architecture",
    );
    expectCleanFailure(
      await runCli(["build", "--preset", "trtllm-onnx", "--strategy", "compose", "--cuda-arch", "9.0"], { tempDir: temp }),
      2,
      "'9.0' is not a CUDA architecture",
    );
  });

  it("a good value is accepted where unused, and said to be ignored; auto asks no GPU there", async () => {
    const env = await fakeNvidiaSmi("must-not-run", `echo "nvidia-smi must not be run here" >&2; exit 9`);
    const full = await runCli(["plan", "--preset", "full", ...sourceArgs, "--cuda-arch", "auto", "--json"], { tempDir: temp, env });
    expect(full.exitCode, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout).settings.cudaArchReason).toBe("--cuda-arch is ignored: the preset builds no TensorRT-LLM");
    const compose = await runCli(["plan", "--preset", "trtllm-onnx", "--strategy", "compose", "--cuda-arch", "90-real"], { tempDir: temp });
    expect(compose.exitCode, compose.stderr).toBe(0);
    expect(compose.stdout).toContain("warning: --cuda-arch 90-real is ignored: compose copies published binaries");
  });
});
