import { describe, expect, it } from "vitest";
import { DIR_MARKER, LIB_MARKER, missingMainMessage, missingTool, parseLddOutput, scannedDirs, uncheckedCopies, unresolvedMessage } from "./ldd.js";
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
    expect(result.withoutMain.map((c) => c.name)).toEqual(["pyonly"]);
  });

  it("a copy whose libraries do not include its main library, or have it only in a subdirectory, is flagged", () => {
    const checksum: ComposeCopy = { name: "checksum", kind: "repoagent", from: { key: "py3", image: "p" }, path: "/opt/tritonserver/repoagents/checksum" };
    const output = [
      `${DIR_MARKER}/opt/tritonserver/backends/onnxruntime`,
      `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/libonnxruntime.so.1`,
      `${LIB_MARKER}/opt/tritonserver/backends/onnxruntime/lib/libtriton_onnxruntime.so`,
      `${DIR_MARKER}/opt/tritonserver/repoagents/checksum`,
      `${LIB_MARKER}/opt/tritonserver/repoagents/checksum/libtritonrepoagent_checksum.so`,
    ].join("\n");
    const result = uncheckedCopies([copy("onnxruntime"), checksum], scannedDirs(output), parseLddOutput(output));
    expect(result.withoutMain.map((c) => c.name)).toEqual(["onnxruntime"]);
    expect(result.withoutLibraries).toEqual([]);
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
    expect(unresolvedMessage({ ...problem, component: "checksum", kind: "repoagent" })).toMatch(
      /\(the repository agent's main library: Triton cannot load the repository agent\)$/,
    );
    expect(unresolvedMessage({ ...problem, component: "redis", kind: "cache" })).toMatch(
      /\(the response cache's main library: Triton cannot load the response cache\)$/,
    );
  });

  it("an optional library's problem is no load failure", () => {
    expect(unresolvedMessage({ ...problem, component: "onnxruntime", kind: "backend", main: false, missing: ["a.so", "b.so"] })).toBe(
      "onnxruntime: /opt/tritonserver/x/libx.so needs a.so, b.so, which are not in the image",
    );
  });
});

describe("missingMainMessage", () => {
  it("names the component and the library Triton loads, allowing for Python-based backends", () => {
    expect(missingMainMessage(copy("onnxruntime"), true)).toBe(
      "onnxruntime: no libtriton_onnxruntime.so in /opt/tritonserver/backends/onnxruntime: Triton cannot load the backend without it (only a Python-based backend has none)",
    );
    expect(missingMainMessage(copy("pyonly"), false)).toBe(
      "pyonly: no shared library under /opt/tritonserver/backends/pyonly, so ldd checked nothing of it, and no libtriton_pyonly.so in /opt/tritonserver/backends/pyonly: Triton cannot load the backend without it (only a Python-based backend has none)",
    );
    expect(missingMainMessage({ name: "redis", kind: "cache", from: { key: "py3", image: "p" }, path: "/opt/tritonserver/caches/redis" }, true)).toBe(
      "redis: no libtritoncache_redis.so in /opt/tritonserver/caches/redis: Triton cannot load the response cache without it",
    );
  });
});
