import { describe, expect, it } from "vitest";
import { loadPreset } from "../presets/load.js";
import { applyOverrides } from "../presets/overrides.js";
import { buildpyArgv, shellQuote } from "./argv.js";

const ci = { interactive: false, pull: true, imageRefs: {} };

describe("buildpyArgv", () => {
  it("trtllm-plus-onnx: features in release order, backends with tags, base image from the recipe", async () => {
    const preset = await loadPreset("trtllm-onnx");
    expect(buildpyArgv(preset, { ...ci, imageRefs: { base: "triton-build/base:abc" } })).toEqual([
      "--no-container-interactive",
      "--enable-gpu",
      "--enable-logging",
      "--enable-stats",
      "--enable-metrics",
      "--enable-gpu-metrics",
      "--enable-cpu-metrics",
      "--enable-tracing",
      "--endpoint=http",
      "--endpoint=grpc",
      "--backend=ensemble",
      "--backend=python",
      "--backend=onnxruntime",
      "--backend=tensorrtllm:v0.9.0",
      "--image=base,triton-build/base:abc",
    ]);
  });

  it("llm-plus-vision: vllm with python and the vision backends, default base image", async () => {
    const preset = await loadPreset("llm-plus-vision");
    expect(buildpyArgv(preset, ci)).toEqual([
      "--no-container-interactive",
      "--enable-gpu",
      "--enable-logging",
      "--enable-stats",
      "--enable-metrics",
      "--enable-gpu-metrics",
      "--enable-cpu-metrics",
      "--enable-tracing",
      "--endpoint=http",
      "--endpoint=grpc",
      "--backend=ensemble",
      "--backend=python",
      "--backend=vllm",
      "--backend=onnxruntime",
      "--backend=tensorrt",
      "--backend=pytorch",
      "--backend=dali",
    ]);
  });

  it("full: the --enable-all set written out", async () => {
    const preset = await loadPreset("full");
    expect(buildpyArgv(preset, ci)).toEqual([
      "--no-container-interactive",
      "--enable-gpu",
      "--enable-logging",
      "--enable-stats",
      "--enable-metrics",
      "--enable-gpu-metrics",
      "--enable-cpu-metrics",
      "--enable-tracing",
      "--enable-nvtx",
      "--endpoint=http",
      "--endpoint=grpc",
      "--endpoint=sagemaker",
      "--endpoint=vertex-ai",
      "--filesystem=gcs",
      "--filesystem=s3",
      "--filesystem=azure_storage",
      ...["ensemble", "identity", "square", "repeat", "tensorflow", "onnxruntime", "python", "dali", "pytorch", "openvino", "fil", "tensorrt"].map(
        (b) => `--backend=${b}`,
      ),
      "--repoagent=checksum",
      "--cache=local",
      "--cache=redis",
    ]);
  });

  it("full covers exactly the release's --enable-all lists", async () => {
    const preset = await loadPreset("full");
    const all = preset.release.buildpy.enableAll;
    expect(preset.backends.map((b) => b.name)).toEqual(all.backends);
    expect(preset.repoAgents.map((b) => b.name)).toEqual(all.repoAgents);
    expect(preset.responseCaches.map((b) => b.name)).toEqual(all.responseCaches);
    expect(preset.endpoints).toEqual(all.endpoints);
    expect(preset.filesystems).toEqual(all.filesystems);
    expect([...preset.features].sort()).toEqual([...all.features].sort());
  });

  it("a terminal drops --no-container-interactive; --no-pull adds --no-container-pull; jobs and organisation pass through", async () => {
    const preset = await loadPreset("full");
    const argv = buildpyArgv(preset, { interactive: true, pull: false, imageRefs: {}, jobs: 6, githubOrganization: "file:///srv/org" });
    expect(argv).not.toContain("--no-container-interactive");
    expect(argv.slice(0, 2)).toEqual(["--no-container-pull", "--build-parallel=6"]);
    expect(argv).toContain("--github-organization=file:///srv/org");
  });

  it("command-line adjustments: --backend retags or adds, --without removes, --image and --buildpy-arg pass through", async () => {
    const preset = applyOverrides(await loadPreset("trtllm-onnx"), {
      backends: ["onnxruntime:r24.04", "dali"],
      without: ["python", "tracing"],
      images: ["base=registry.local/base:1"],
      buildpyArgs: ["--build-type=Debug"],
    });
    const argv = buildpyArgv(preset, { ...ci, imageRefs: { base: "registry.local/base:1" } });
    expect(argv.filter((a) => a.startsWith("--backend="))).toEqual([
      "--backend=ensemble",
      "--backend=onnxruntime:r24.04",
      "--backend=tensorrtllm:v0.9.0",
      "--backend=dali",
    ]);
    expect(argv).not.toContain("--enable-tracing");
    expect(argv).toContain("--image=base,registry.local/base:1");
    expect(argv.at(-1)).toBe("--build-type=Debug");
  });

  it("cmake arguments, repo tags and build type become build.py flags", async () => {
    const base = await loadPreset("llm-plus-vision");
    const preset = {
      ...base,
      buildType: "Debug",
      repoTags: { common: "main" },
      cmakeArgs: { core: { extra: { A: "1" }, override: { B: "2" } }, backends: { onnxruntime: { extra: { C: "3" }, override: {} } } },
    };
    const argv = buildpyArgv(preset, ci);
    expect(argv).toEqual(
      expect.arrayContaining([
        "--build-type=Debug",
        "--repo-tag=common:main",
        "--extra-core-cmake-arg=A=1",
        "--override-core-cmake-arg=B=2",
        "--extra-backend-cmake-arg=onnxruntime:C=3",
      ]),
    );
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote(["python3", "build.py", "--image=base,a/b:1", "--x=a b", "it's"])).toBe(`python3 build.py --image=base,a/b:1 '--x=a b' 'it'\\''s'`);
  });
});
