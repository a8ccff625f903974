import { describe, expect, it } from "vitest";
import { DIR_MARKER, LIB_MARKER, missingTool, parseLddOutput, scannedDirs, uncheckedCopies, unresolvedMessage } from "./ldd.js";
import type { ComposeCopy } from "./plan.js";

const copy = (name: string): ComposeCopy => ({ name, kind: "backend", from: { key: "py3", image: "p" }, path: `/opt/tritonserver/backends/${name}` });

describe("ldd script output", () => {
  it("names the tool the image lacks", () => {
    expect(missingTool("@@triton-build-no-tool ldd\n")).toBe("ldd");
    expect(missingTool("sh: ldd: not found\n")).toBeUndefined();
  });

  it("copies the script did not scan, or scanned and found no library in, are told apart", () => {
    const output = [
      `${DIR_MARKER}/opt/tritonserver/backends/onnxruntime`,
      `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/libtriton_onnxruntime.so`,
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c4a200000)",
      `${DIR_MARKER}/opt/tritonserver/backends/pyonly`,
    ].join("\n");
    const dirs = scannedDirs(output);
    expect(dirs).toEqual(["/opt/tritonserver/backends/onnxruntime", "/opt/tritonserver/backends/pyonly"]);
    const result = uncheckedCopies([copy("onnxruntime"), copy("pyonly"), copy("absent")], dirs, parseLddOutput(output));
    expect(result.notScanned.map((c) => c.name)).toEqual(["absent"]);
    expect(result.withoutLibraries.map((c) => c.name)).toEqual(["pyonly"]);
  });

  it("a library of another component with the same prefix does not count", () => {
    const output = [`${DIR_MARKER}/opt/tritonserver/backends/onnx`, `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/libx.so`].join("\n");
    expect(uncheckedCopies([copy("onnx")], scannedDirs(output), parseLddOutput(output)).withoutLibraries.map((c) => c.name)).toEqual(["onnx"]);
  });
});

describe("unresolvedMessage", () => {
  const problem = { library: "/opt/tritonserver/x/libx.so", missing: ["libnvinfer.so.10"], main: true };
  it("says what a missing main library means for each kind", () => {
    expect(unresolvedMessage({ ...problem, component: "tensorrt", kind: "backend" })).toBe(
      "tensorrt: /opt/tritonserver/x/libx.so needs libnvinfer.so.10, which is not in the image (the backend's main library: Triton cannot load the backend)",
    );
    expect(unresolvedMessage({ ...problem, component: "checksum", kind: "repoagent" })).toMatch(/\(the repository agent's main library: Triton cannot load the repository agent\)$/);
    expect(unresolvedMessage({ ...problem, component: "redis", kind: "cache" })).toMatch(/\(the response cache's main library: Triton cannot load the response cache\)$/);
  });

  it("an optional library's problem is no load failure", () => {
    expect(unresolvedMessage({ ...problem, component: "onnxruntime", kind: "backend", main: false, missing: ["a.so", "b.so"] })).toBe(
      "onnxruntime: /opt/tritonserver/x/libx.so needs a.so, b.so, which are not in the image",
    );
  });
});
