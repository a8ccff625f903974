import { describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/load.js";
import { BACKEND_ENV, backendEnvLines } from "./backend-env.js";
import { composeDockerfile, planCompose } from "./plan.js";

describe("the environment of copied backends", () => {
  it("is build.py r24.05's, per backend, in build.py's order, each with its source", () => {
    expect(backendEnvLines(["dali", "tensorrt", "pytorch", "onnxruntime"])).toEqual([
      "# onnxruntime: the ONNX Runtime backend's libraries on the library path, as build.py sets it (server@r24.05:build.py#L1149-1152)",
      "ENV LD_LIBRARY_PATH=/opt/tritonserver/backends/onnxruntime:${LD_LIBRARY_PATH}",
      "# pytorch: libtorch finds the HPC-X libraries it was built with, as build.py sets it (server@r24.05:build.py#L1154-1158)",
      "ENV LD_LIBRARY_PATH=/opt/hpcx/ucc/lib/:/opt/hpcx/ucx/lib/:${LD_LIBRARY_PATH}",
      "# dali: the DALI wheel shipped in the backend on the Python path, as build.py sets it (server@r24.05:build.py#L1271-1275)",
      "ENV PYTHONPATH=/opt/tritonserver/backends/dali/wheel/dali:$PYTHONPATH",
    ]);
    expect(backendEnvLines(["tensorrt", "python"])).toEqual([]);
    expect(BACKEND_ENV.every((entry) => /^server@r24\.05:build\.py#L\d+-\d+$/.test(entry.source))).toBe(true);
  });

  it("reaches the compose Dockerfile for the copied backends only", async () => {
    const vision = await loadPreset("llm-plus-vision");
    const dockerfile = composeDockerfile(planCompose(vision), vision);
    expect(dockerfile).toContain("ENV LD_LIBRARY_PATH=/opt/tritonserver/backends/onnxruntime:${LD_LIBRARY_PATH}\n");
    expect(dockerfile).toContain("ENV LD_LIBRARY_PATH=/opt/hpcx/ucc/lib/:/opt/hpcx/ucx/lib/:${LD_LIBRARY_PATH}\n");
    expect(dockerfile).toContain("ENV PYTHONPATH=/opt/tritonserver/backends/dali/wheel/dali:$PYTHONPATH\n");
    const trtllm = await loadPreset("trtllm-onnx");
    const env = composeDockerfile(planCompose(trtllm), trtllm)
      .split("\n")
      .filter((line) => line.startsWith("ENV "));
    expect(env).toEqual(["ENV LD_LIBRARY_PATH=/opt/tritonserver/backends/onnxruntime:${LD_LIBRARY_PATH}"]);
  });
});
