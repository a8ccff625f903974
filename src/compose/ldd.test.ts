import { describe, expect, it } from "vitest";
import { DIR_MARKER, LIB_MARKER, missingTool, parseLddOutput, scannedDirs, uncheckedCopies } from "./ldd.js";
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
