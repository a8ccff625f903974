import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/load.js";
import { presetView } from "./presets.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-presets-view-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("presets show", () => {
  it("shows every setting of a preset, the optional ones included", async () => {
    const file = path.join(dir, "all.yaml");
    await writeFile(file, `extends: full\nbuildType: Debug\nminComputeCapability: "7.5"\ngithubOrganization: https://git.local/triton\n`);
    const preset = await loadPreset(file);
    const view = presetView(preset);
    expect(view).toMatchObject({ buildType: "Debug", minComputeCapability: "7.5", githubOrganization: "https://git.local/triton" });
    // Every key of the merged preset appears (the release by its name).
    expect(Object.keys(view).sort()).toEqual(Object.keys(preset).sort());
  });
});
