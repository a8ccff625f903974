import { describe, expect, it } from "vitest";
import { normalizeSection } from "../cache/key.js";
import { withJobCount } from "./jobs.js";

describe("withJobCount", () => {
  // Lines as r24.05's build.py writes them (server@r24.05:build.py, cmake_build of a --dryrun),
  // and TensorRT-LLM's build_wheel.py line as our rewrite leaves it.
  const section = [
    "cd /tmp/tritonbuild/onnxruntime/build",
    'cmake "-DCMAKE_BUILD_TYPE=Release" ..',
    "cmake --build . --config Release -j8  -t install",
    "python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt --job_count 8",
    "make -j8 something-else",
  ];

  it("sets the count of cmake --build and build_wheel.py, and nothing else", () => {
    expect(withJobCount(section, 3)).toEqual([
      "cd /tmp/tritonbuild/onnxruntime/build",
      'cmake "-DCMAKE_BUILD_TYPE=Release" ..',
      "cmake --build . --config Release -j3  -t install",
      "python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt --job_count 3",
      "make -j8 something-else",
    ]);
    expect(withJobCount(["cmake --build build --parallel 12"], 2)).toEqual(["cmake --build build --parallel 2"]);
  });

  it("leaves the cache key's view of the section unchanged", () => {
    expect(normalizeSection(withJobCount(section, 1))).toBe(normalizeSection(section));
  });
});
