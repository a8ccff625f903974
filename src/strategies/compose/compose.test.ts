import { describe, expect, it } from "vitest";
import { PresetError } from "../../errors.js";
import { loadPreset } from "../../presets/load.js";
import { applyOverrides } from "../../presets/overrides.js";
import { mainLibraryName, parseLddOutput, unresolvedByComponent, LIB_MARKER } from "./ldd.js";
import { releaseMismatch } from "./release-check.js";
import { composeDockerfile, planCompose } from "./plan.js";

describe("planCompose", () => {
  it("trtllm-onnx: the trtllm image is the base; onnxruntime comes from py3", async () => {
    const preset = await loadPreset("trtllm-onnx");
    const plan = planCompose(preset);
    expect(plan.base).toMatchObject({ key: "trtllm", image: "nvcr.io/nvidia/tritonserver:24.05-trtllm-python-py3" });
    expect(plan.inBase.map((c) => c.name)).toEqual(["python", "tensorrtllm"]);
    expect(plan.copies).toEqual([
      {
        name: "onnxruntime",
        kind: "backend",
        from: { key: "py3", image: "nvcr.io/nvidia/tritonserver:24.05-py3" },
        path: "/opt/tritonserver/backends/onnxruntime",
      },
    ]);
    expect(plan.sources.map((s) => s.key)).toEqual(["trtllm", "py3"]);
  });

  it("llm-plus-vision: the vllm image is the base; the vision backends come from py3", async () => {
    const plan = planCompose(await loadPreset("llm-plus-vision"));
    expect(plan.base.key).toBe("vllm");
    expect(plan.copies.map((c) => c.name)).toEqual(["onnxruntime", "tensorrt", "pytorch", "dali"]);
  });

  it("full: py3 holds everything, nothing to copy", async () => {
    const plan = planCompose(await loadPreset("full"));
    expect(plan.base.key).toBe("py3");
    expect(plan.copies).toEqual([]);
  });

  it("--image overrides published images (mirrors)", async () => {
    const preset = applyOverrides(await loadPreset("trtllm-onnx"), {
      images: ["py3=mirror.local/triton:24.05-py3", "trtllm=mirror.local/triton:24.05-trtllm"],
    });
    const plan = planCompose(preset);
    expect(plan.base.image).toBe("mirror.local/triton:24.05-trtllm");
    const dockerfile = composeDockerfile(plan, preset);
    expect(dockerfile).toContain("FROM mirror.local/triton:24.05-py3 AS src_py3\nFROM mirror.local/triton:24.05-trtllm\n");
    expect(dockerfile).toContain("COPY --from=src_py3 /opt/tritonserver/backends/onnxruntime /opt/tritonserver/backends/onnxruntime");
  });

  it("refuses what published images cannot give, saying --strategy build is the way", async () => {
    const both = applyOverrides(await loadPreset("trtllm-onnx"), { backends: ["vllm"] });
    expect(() => planCompose(both)).toThrow(PresetError);
    expect(() => planCompose(both)).toThrow(/each need their own published base image/);
    const armnn = applyOverrides(await loadPreset("full"), { backends: ["armnn_tflite"] });
    expect(() => planCompose(armnn)).toThrow(/no published 24.05 image holds backend armnn_tflite/);
  });

  it("warns that a tag other than the release's is ignored", async () => {
    const plan = planCompose(applyOverrides(await loadPreset("trtllm-onnx"), { backends: ["onnxruntime:r24.04"] }));
    expect(plan.warnings).toContainEqual(expect.stringContaining("onnxruntime:r24.04 is ignored"));
  });
});

describe("compose checks", () => {
  it("releaseMismatch names every source's release", () => {
    expect(
      releaseMismatch([
        { image: "a", container: "24.05", triton: "2.46.0" },
        { image: "b", container: "24.05", triton: "2.46.0" },
      ]),
    ).toBeUndefined();
    expect(
      releaseMismatch([
        { image: "a", container: "24.05", triton: "2.46.0" },
        { image: "b", container: "24.04", triton: "2.45.0" },
      ]),
    ).toBe("the source images are of different Triton releases: a is 24.05 (Triton 2.46.0); b is 24.04 (Triton 2.45.0)");
    expect(releaseMismatch([{ image: "a" }])).toMatch(/cannot tell the Triton release of a/);
  });

  it("parses ldd output (captured from the fixture image's ldd and glibc's)", () => {
    const output = [
      `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/libonnxruntime_providers_tensorrt.so`,
      "\tlinux-vdso.so.1 (0x00007ffd5a1f2000)",
      "\tlibnvinfer.so.10 => not found",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c4a200000)",
      `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/libtriton_onnxruntime.so`,
      "\tlibonnxruntime.so.1 => /opt/tritonserver/backends/onnxruntime/libonnxruntime.so.1 (0x00007f9)",
      `${LIB_MARKER}/opt/tritonserver/backends/tensorrt/libtriton_tensorrt.so`,
      "\tlibnvinfer.so.10 => not found",
      "\tlibcudart.so.12 => not found",
      "some unrelated line",
    ].join("\n");
    const reports = parseLddOutput(output);
    expect(reports.map((r) => [r.library.split("/").pop(), r.missing])).toEqual([
      ["libonnxruntime_providers_tensorrt.so", ["libnvinfer.so.10"]],
      ["libtriton_onnxruntime.so", []],
      ["libtriton_tensorrt.so", ["libnvinfer.so.10", "libcudart.so.12"]],
    ]);
    const copies = [
      { name: "onnxruntime", kind: "backend" as const, from: { key: "py3", image: "p" }, path: "/opt/tritonserver/backends/onnxruntime" },
      { name: "tensorrt", kind: "backend" as const, from: { key: "py3", image: "p" }, path: "/opt/tritonserver/backends/tensorrt" },
    ];
    expect(unresolvedByComponent(copies, reports).map((u) => [u.component, u.main])).toEqual([
      ["onnxruntime", false],
      ["tensorrt", true],
    ]);
    expect(mainLibraryName({ name: "checksum", kind: "repoagent" })).toBe("libtritonrepoagent_checksum.so");
  });
});
