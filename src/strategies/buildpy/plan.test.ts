import { describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/load.js";
import { planBuildpyArgv } from "./plan.js";
import { recipeImageTag } from "./images.js";
import { applyOverrides } from "../../presets/overrides.js";
import { noRecipeReason } from "./execute.js";

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

describe("the base-image phase when no recipe is built", () => {
  it("says that --image replaced the preset's recipe, not that the preset names none", async () => {
    const preset = applyOverrides(await loadPreset("trtllm-plus-onnx"), { images: ["base=registry.local/trtllm-base:24.05"] });
    expect(preset.images.base).toMatchObject({ kind: "ref", ref: "registry.local/trtllm-base:24.05" });
    expect(noRecipeReason(preset)).toMatch(
      /^--image base=registry\.local\/trtllm-base:24\.05 replaces the preset's recipe \(\S+ of \S+tensorrtllm_backend\S*\)$/,
    );
  });

  it("a preset without recipes names none", async () => {
    expect(noRecipeReason(await loadPreset("full"))).toBe("the preset names no image recipe");
    const overridden = applyOverrides(await loadPreset("full"), { images: ["base=registry.local/base:24.05"] });
    expect(noRecipeReason(overridden)).toBe("the preset names no image recipe");
  });
});
