import { describe, expect, it } from "vitest";
import { closestMatch, expectedOneOf } from "./suggest.js";

describe("did you mean", () => {
  const presets = ["full", "llm-plus-vision", "trtllm-plus-onnx", "trtllm-onnx"];

  it("suggests the name a typo or a shortened start points to", () => {
    expect(closestMatch("trtlm-onnx", presets)).toBe("trtllm-onnx");
    expect(closestMatch("trtlm", presets)).toMatch(/^trtllm-/);
    expect(closestMatch("onnx", ["core", "python", "onnxruntime", "checksum"])).toBe("onnxruntime");
    expect(closestMatch("fulll", presets)).toBe("full");
  });

  it("suggests nothing for a name far from all of them", () => {
    expect(closestMatch("tensorflow", presets)).toBeUndefined();
    expect(closestMatch("xy", ["python", "core"])).toBeUndefined();
    expect(expectedOneOf("zzz", ["a", "b"])).toBe("expected one of a, b");
  });
});
