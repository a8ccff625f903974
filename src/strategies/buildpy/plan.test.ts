import { describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/load.js";
import { planBuildpyArgv } from "./plan.js";
import { recipeImageTag } from "./images.js";

describe("planBuildpyArgv", () => {
  const options = { interactive: false, pull: true, jobs: 4 };

  it("a base image built from a recipe is local: the build.py command does not pull it", async () => {
    const preset = await loadPreset("trtllm-plus-onnx");
    const base = preset.images.base;
    if (base?.kind !== "recipe") throw new Error("trtllm-plus-onnx has a base image recipe");
    const tag = recipeImageTag("base", base.recipe, "0123456789abcdef0123456789abcdef01234567");
    const argv = planBuildpyArgv(preset, options, { refs: { base: tag }, recipes: [{ name: "base", recipe: base.recipe, tag }] });
    expect(argv.slice(0, 3)).toEqual(["--no-container-interactive", "--no-container-pull", "--build-parallel=4"]);
    expect(argv).toContain(`--image=base,${tag}`);
  });

  it("a base image from a registry is pulled, unless --no-pull", async () => {
    const preset = await loadPreset("trtllm-plus-onnx");
    const images = { refs: { base: "registry.local/trtllm-base:24.05" }, recipes: [] };
    const argv = planBuildpyArgv(preset, options, images);
    expect(argv).not.toContain("--no-container-pull");
    expect(argv).toContain("--image=base,registry.local/trtllm-base:24.05");
    expect(planBuildpyArgv(preset, { ...options, pull: false }, images)).toContain("--no-container-pull");
  });
});
