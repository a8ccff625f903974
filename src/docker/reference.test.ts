import { describe, expect, it } from "vitest";
import { isValidImageReference, tagSafe } from "./reference.js";

describe("image references", () => {
  it("accepts what docker accepts", () => {
    for (const ok of ["tritonserver:24.05-full", "registry.example.com:5000/ml/triton:1.0", "localhost/a_b__c-d:x", "ghcr.io/acme/triton"]) {
      expect(isValidImageReference(ok), ok).toBe(true);
    }
  });
  it("refuses what docker refuses", () => {
    for (const bad of ["MyRepo:x", "triton:has space", "triton:", ":tag", "a//b", "triton:-x", `t:${"x".repeat(129)}`]) {
      expect(isValidImageReference(bad), bad).toBe(false);
    }
  });
  it("turns a preset name into a tag suffix", () => {
    expect(tagSafe("My Preset (GPU)")).toBe("my-preset-gpu");
    expect(tagSafe("---")).toBe("preset");
  });
});
