import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PresetError, UsageError } from "../errors.js";
import { listBuiltinPresets, loadPreset } from "./load.js";
import { applyOverrides } from "./overrides.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-presets-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function loadError(nameOrPath: string): Promise<PresetError> {
  const error = await loadPreset(nameOrPath).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PresetError);
  return error as PresetError;
}

describe("built-in presets", () => {
  it("lists the three presets and the alias", async () => {
    const presets = await listBuiltinPresets();
    expect(presets.map((p) => p.name)).toEqual(["full", "llm-plus-vision", "trtllm-plus-onnx"]);
    expect(presets.find((p) => p.name === "trtllm-plus-onnx")?.aliases).toEqual(["trtllm-onnx"]);
  });

  it("an alias loads the same preset", async () => {
    expect(await loadPreset("trtllm-onnx")).toEqual(await loadPreset("trtllm-plus-onnx"));
  });

  it("trtllm-plus-onnx names a base image recipe from the tensorrtllm_backend repo", async () => {
    const preset = await loadPreset("trtllm-plus-onnx");
    expect(preset.backends).toContainEqual({ name: "tensorrtllm", tag: "v0.9.0" });
    const base = preset.images.base;
    expect(base?.kind).toBe("recipe");
    if (base?.kind === "recipe") {
      expect(base.recipe.repo).toBe("https://github.com/triton-inference-server/tensorrtllm_backend");
      expect(base.recipe.ref).toBe("v0.9.0");
      expect(base.recipe.dockerfile).toBe("dockerfile/Dockerfile.triton.trt_llm_backend");
      expect(base.recipe.buildArgs.BASE_IMAGE).toBe("nvcr.io/nvidia/tritonserver:24.05-py3-min");
    }
  });
});

describe("user preset files", () => {
  it("extends a built-in preset, adds and removes components", async () => {
    const file = await write("mine.yaml", `extends: trtllm-onnx\nbackends: [dali, {name: onnxruntime, tag: r24.04}]\nwithout: [python]\nfeatures: [nvtx]\n`);
    const preset = await loadPreset(file);
    expect(preset.name).toBe("mine");
    expect(preset.files).toEqual([file, expect.stringMatching(/trtllm-plus-onnx\.yaml$/)]);
    expect(preset.backends).toEqual([{ name: "ensemble" }, { name: "onnxruntime", tag: "r24.04" }, { name: "tensorrtllm", tag: "v0.9.0" }, { name: "dali" }]);
    expect(preset.features).toContain("nvtx");
    expect(preset.images.base?.kind).toBe("recipe");
  });

  it("extends by relative path", async () => {
    await write("parent.yaml", `release: "24.05"\nbackends: [python]\n`);
    const child = await write("child.yaml", `extends: ./parent.yaml\nbackends: [onnxruntime]\n`);
    expect((await loadPreset(child)).backends.map((b) => b.name)).toEqual(["python", "onnxruntime"]);
  });

  it("rejects an extends cycle, naming the loop", async () => {
    await write("a.yaml", `release: "24.05"\nextends: ./b.yaml\n`);
    await write("b.yaml", `extends: ./c.yaml\n`);
    await write("c.yaml", `extends: ./a.yaml\n`);
    const error = await loadError(path.join(dir, "a.yaml"));
    expect(error.message).toContain("extends cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml");
  });

  it("reports a YAML syntax error with file and line", async () => {
    const file = await write("bad.yaml", `release: "24.05"\nbackends:\n  - python\n  bad: : x\n`);
    const error = await loadError(file);
    expect(error.message).toMatch(new RegExp(`^${file}:4:\\d+: YAML syntax error`));
  });

  it("rejects an unknown backend with file, line, path and a suggestion", async () => {
    const file = await write("typo.yaml", `release: "24.05"\nbackends:\n  - python\n  - onxruntime\n`);
    const error = await loadError(file);
    expect(error.message).toContain(`${file}:4:5: backends[1]: unknown backend 'onxruntime'`);
    expect(error.message).toContain("did you mean 'onnxruntime'?");
  });

  it("rejects unknown endpoints, filesystems, features and image names in one message", async () => {
    const file = await write("names.yaml", `release: "24.05"\nendpoints: [http, websocket]\nfilesystems: [s4]\nfeatures: [logs]\nimages: {basse: foo:1}\n`);
    const error = await loadError(file);
    expect(error.message).toContain("endpoints[1]: unknown endpoint 'websocket'");
    expect(error.message).toContain("filesystems[0]: unknown filesystem 's4'");
    expect(error.message).toContain("features[0]: unknown feature 'logs'");
    expect(error.message).toContain("images.basse: unknown image name 'basse'");
  });

  it("rejects unknown keys", async () => {
    const file = await write("keys.yaml", `release: "24.05"\nbackend: [python]\ncmakeArgs:\n  core: {extra: {}, extras: {}}\n`);
    const error = await loadError(file);
    expect(error.message).toContain(`${file}:2:1: (top level): unknown key 'backend'`);
    expect(error.message).toContain(`${file}:4:21: cmakeArgs.core: unknown key 'extras'`);
  });

  it("rejects a wrong value type with its path", async () => {
    const file = await write("types.yaml", `release: "24.05"\nimages:\n  base:\n    recipe: {repo: x, ref: y}\n`);
    const error = await loadError(file);
    expect(error.message).toMatch(/images\.base/);
  });

  it("an incomplete image recipe names its missing keys, not the string form", async () => {
    const file = await write("recipe.yaml", `release: "24.05"\nimages: {base: {recipe: {repo: https://x/y}}}\n`);
    const error = await loadError(file);
    expect(error.message).toMatch(new RegExp(`${file}:2:\\d+: images\\.base\\.recipe\\.ref: required key is missing \\(expected string\\)`));
    expect(error.message).toContain("images.base.recipe.dockerfile: required key is missing (expected string)");
    expect(error.message).not.toContain("received object");
  });

  it("a value of a type no form accepts names every form", async () => {
    const file = await write("number.yaml", `release: "24.05"\nbackends: [5, {name: python, tag: 1}]\n`);
    const error = await loadError(file);
    expect(error.message).toContain("backends[0]: expected string or object, received number");
    expect(error.message).toContain("backends[1].tag: Invalid input: expected string, received number");
  });

  it("rejects a tag with spaces and an image reference docker would refuse", async () => {
    const tags = await write("tags.yaml", `release: "24.05"\nbackends: [{name: python, tag: r 1}]\n`);
    expect((await loadError(tags)).message).toContain(`${tags}:2:32: backends[0].tag: 'r 1' contains a space, a shell metacharacter`);
    const file = await write("images.yaml", `release: "24.05"\nimages: {base: NOT VALID, gpu-base: {image: "x:"}}\n`);
    const error = await loadError(file);
    expect(error.message).toContain("images.base: 'NOT VALID' is not a valid image reference");
    expect(error.message).toContain("images.gpu-base: 'x:' is not a valid image reference");
  });

  it("a without: entry the preset does not have is an error at its line", async () => {
    const file = await write("mine.yaml", `extends: trtllm-onnx\nwithout:\n  - onnxruntime\n  - dali\n`);
    const error = await loadError(file);
    expect(error.message).toContain(`${file}:4:5: without[1]: 'dali' is not in the preset it extends or in this file: nothing to leave out`);
  });

  it("a without: entry another backend needs is an error at its line", async () => {
    const file = await write("novllm.yaml", `extends: llm-plus-vision\nwithout: [python]\n`);
    const error = await loadError(file);
    expect(error.message).toContain(`${file}:2:11: without[0]: cannot leave out 'python': vllm needs it, and build.py adds it back`);
    const both = await write("both.yaml", `extends: llm-plus-vision\nwithout: [python, vllm]\n`);
    expect((await loadPreset(both)).backends.map((b) => b.name)).toEqual(["ensemble", "onnxruntime", "tensorrt", "pytorch", "dali"]);
  });

  it("a component listed twice in one file is an error naming both places", async () => {
    const file = await write("twice.yaml", `release: "24.05"\nbackends: [python, {name: python, tag: r24.04}]\n`);
    const error = await loadError(file);
    expect(error.message).toContain(`${file}:2:20: backends[1]: backend 'python' is listed twice (also backends[0]); list it once, with its tag`);
  });

  it("every value build.py writes into cmake_build is refused at its line when the shell would act on it", async () => {
    const file = await write(
      "hostile.yaml",
      [
        'release: "24.05"',
        "backends:",
        '  - "onnxruntime:r24.05;mkdir${IFS}-p${IFS}/tmp/x;#"',
        "  - {name: python, tag: '`touch /tmp/x`'}",
        "repoAgents: ['checksum:--upload-pack=touch']",
        "repoTags: {core: 'r24.05&&id'}",
        'githubOrganization: "https://github.com/org;touch /tmp/x;#"',
        "",
      ].join("\n"),
    );
    const { message } = await loadError(file);
    const lines = message
      .split("\n")
      .slice(1)
      .map((line) => line.trim());
    expect(lines).toEqual([
      `${file}:3:5: backends[0]: tag 'r24.05;mkdir\${IFS}-p\${IFS}/tmp/x;#' contains ';', a shell metacharacter; a git branch or tag has only letters, digits and . _ - / + @ % , =`,
      `${file}:4:25: backends[1].tag: '\`touch /tmp/x\`' contains '\`', a shell metacharacter; a git branch or tag has only letters, digits and . _ - / + @ % , =`,
      `${file}:5:14: repoAgents[0]: tag '--upload-pack=touch' starts with '-', which git would read as an option`,
      `${file}:6:18: repoTags.core: 'r24.05&&id' contains '&', a shell metacharacter; a git branch or tag has only letters, digits and . _ - / + @ % , =`,
      `${file}:7:21: githubOrganization: 'https://github.com/org;touch /tmp/x;#' contains ';', a shell metacharacter; a repository URL here has only letters, digits and . _ ~ : / @ % + = , -`,
    ]);
    // parseWithSchema shows the first five problems: the rest of the file, on its own
    const rest = await write(
      "hostile-cmake.yaml",
      [
        'release: "24.05"',
        "backends: [python]",
        "cmakeArgs:",
        "  core: {extra: {A: '$(touch /tmp/x)', 'B C': x}}",
        '  backends: {python: {override: {D: "a\\"b"}}}',
        "minComputeCapability: '6.0$(id)'",
        "",
      ].join("\n"),
    );
    const more = (await loadError(rest)).message
      .split("\n")
      .slice(1)
      .map((line) => line.trim());
    expect(more).toEqual([
      `${rest}:4:21: cmakeArgs.core.extra.A: '$(touch /tmp/x)' contains '$', which bash expands inside build.py's double quotes; a CMake value here is printable ASCII without $ \` " \\`,
      `${rest}:4:40: cmakeArgs.core.extra: 'B C' is not a CMake variable name: it contains a space, a shell metacharacter; expected letters, digits and _, e.g. TRITON_ENABLE_GPU`,
      `${rest}:5:37: cmakeArgs.backends.python.override.D: 'a"b' contains '"', which bash expands inside build.py's double quotes; a CMake value here is printable ASCII without $ \` " \\`,
      `${rest}:6:23: minComputeCapability: '6.0$(id)' is not a compute capability; expected e.g. 6.0 or 8.6`,
    ]);
  });

  it("cmake values that name what gets cloned are held to the URL and ref rules (git gets them, also on this machine)", async () => {
    const file = await write(
      "hostile-clone-defines.yaml",
      [
        'release: "24.05"',
        "backends: [python]",
        "cmakeArgs:",
        "  core: {override: {TRITON_REPO_ORGANIZATION: '--exec=>/tmp/x;true'}}",
        "  backends: {python: {extra: {TRITON_COMMON_REPO_TAG: '--upload-pack=x'}}}",
        "",
      ].join("\n"),
    );
    const lines = (await loadError(file)).message
      .split("\n")
      .slice(1)
      .map((line) => line.trim());
    expect(lines).toEqual([
      `${file}:4:47: cmakeArgs.core.override.TRITON_REPO_ORGANIZATION: '--exec=>/tmp/x;true' starts with '-', which git would read as an option`,
      `${file}:5:55: cmakeArgs.backends.python.extra.TRITON_COMMON_REPO_TAG: '--upload-pack=x' starts with '-', which git would read as an option`,
    ]);
  });

  it("an image recipe's repository, ref, paths and target are checked: git and docker get them as arguments", async () => {
    const file = await write(
      "recipe-hostile.yaml",
      [
        'release: "24.05"',
        "images:",
        "  base:",
        "    recipe:",
        '      repo: "--upload-pack=touch /tmp/x"',
        "      ref: '-oProxyCommand=id'",
        "      dockerfile: ../../etc/passwd",
        "      context: /",
        "      target: 'x;id'",
        "",
      ].join("\n"),
    );
    const lines = (await loadError(file)).message
      .split("\n")
      .slice(1)
      .map((line) => line.trim());
    expect(lines).toEqual([
      `${file}:5:13: images.base.recipe.repo: '--upload-pack=touch /tmp/x' starts with '-', which git would read as an option`,
      `${file}:6:12: images.base.recipe.ref: '-oProxyCommand=id' starts with '-', which git would read as an option`,
      `${file}:7:19: images.base.recipe.dockerfile: '../../etc/passwd' is not a path inside the repository (no leading '/', no '..')`,
      `${file}:8:16: images.base.recipe.context: '/' is not a path inside the repository (no leading '/', no '..')`,
      `${file}:9:15: images.base.recipe.target: a build stage name: letters, digits, . _ -`,
    ]);
  });

  it("CMake values may be numbers and booleans, passed on as written", async () => {
    const file = await write(
      "cmake.yaml",
      `release: "24.05"\ncmakeArgs:\n  core: {extra: {A: 1, B: true, C: "x"}}\n  backends: {python: {override: {D: 2.5}}}\n`,
    );
    const preset = await loadPreset(file);
    expect(preset.cmakeArgs.core.extra).toEqual({ A: "1", B: "true", C: "x" });
    expect(preset.cmakeArgs.backends.python?.override).toEqual({ D: "2.5" });
  });

  it("needs a release somewhere in the chain", async () => {
    const file = await write("norelease.yaml", `backends: [python]\n`);
    expect((await loadError(file)).message).toContain("no release is set");
  });

  it("names an unknown release and the known ones", async () => {
    const file = await write("old.yaml", `release: "23.01"\n`);
    expect((await loadError(file)).message).toContain("unknown release '23.01'; expected one of 24.05");
  });

  it("an unknown release is reported at the line that sets it, also through extends", async () => {
    const parent = await write("parent.yaml", `backends: [python]\nrelease: "24.5"\n`);
    const child = await write("child.yaml", `extends: ./parent.yaml\n`);
    const error = await loadError(child);
    expect(error.message).toBe(`${parent}:2:10: release: unknown release '24.5'; expected one of 24.05 (did you mean '24.05'?)`);
  });

  it("a missing file named by extends is reported at that extends line", async () => {
    const child = await write("child.yaml", `release: "24.05"\nextends: ./nope.yaml\n`);
    const error = await loadError(child);
    expect(error.message).toBe(`${child}:2:10: extends: ${path.join(dir, "nope.yaml")}: preset file not found`);
  });

  it("a file of two YAML documents says so, without the YAML library's advice", async () => {
    const file = await write("two.yaml", `release: "24.05"\n---\nbackends: [python]\n`);
    const error = await loadError(file);
    expect(error.message).toBe(`${file}:2:1: a second YAML document starts here; the file must hold one YAML document`);
    expect(error.message).not.toContain("parseAllDocuments");
  });

  it("bad YAML of any kind is a preset error: an alias bomb, deep nesting, unknown tags, bytes that are not UTF-8", async () => {
    const bombFile = fileURLToPath(new URL("../../test/fixtures/yaml/alias-bomb.yaml", import.meta.url));
    expect((await loadError(bombFile)).message).toBe(`${bombFile}: cannot read the YAML: Excessive alias count indicates a resource exhaustion attack`);
    // two aliases a level, forty levels: few aliases, 2^40 values
    const narrow = Array.from({ length: 40 }, (_, i) => `l${i}: &l${i} [${i === 0 ? "x" : `*l${i - 1}, *l${i - 1}`}]`).join("\n");
    expect((await loadError(await write("narrow.yaml", `${narrow}\n`))).message).toContain("Excessive alias count");

    const deep = await write("deep.yaml", `release: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`);
    expect((await loadError(deep)).message).toMatch(new RegExp(`^${deep}:1:\\d+: YAML syntax error: Maximum call stack size exceeded`));

    const tagged = await write("tagged.yaml", `release: !!js/function "24.05"\n`);
    expect((await loadError(tagged)).message).toMatch(new RegExp(`^${tagged}:1:\\d+: YAML syntax error: Unresolved tag: tag:yaml.org,2002:js/function`));
    const proto = await write("proto.yaml", `release: "24.05"\n__proto__: {backends: [python]}\n`);
    expect((await loadError(proto)).message).toContain("unknown key '__proto__'");

    const latin1 = path.join(dir, "latin1.yaml");
    await writeFile(latin1, Buffer.concat([Buffer.from('release: "24.05"\nbackends:\n  - {name: python, tag: "r'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    expect((await loadError(latin1)).message).toBe(`${latin1}:3: the preset file is not valid UTF-8 text`);
  });

  it("a file larger than 1 MiB, a FIFO or a device is not read", async () => {
    const big = await write("big.yaml", `release: "24.05"\n# ${"x".repeat(1024 * 1024)}\n`);
    expect((await loadError(big)).message).toBe(`${big}: is larger than 1 MiB, so it is not a preset file`);
    const fifo = path.join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    expect((await loadError(fifo)).message).toBe(`${fifo}: is not a regular file, so it is not a preset file`);
    expect((await loadError("/dev/zero")).message).toBe("/dev/zero: is not a regular file, so it is not a preset file");
  });

  it("a directory passed as a preset is one clear error with a hint", async () => {
    const error = await loadError(dir);
    expect(error.message).toBe(`${dir}: is a directory, not a preset file`);
    expect(error.hint).toContain("pass a YAML file");
  });

  it("a missing file is one clear error", async () => {
    const error = await loadError(path.join(dir, "nope.yaml"));
    expect(error.message).toContain("nope.yaml: preset file not found");
  });

  it("an unknown preset name suggests the close one", async () => {
    const error = await loadError("trtllm-onx");
    expect(error.message).toContain("unknown preset 'trtllm-onx'");
    expect(error.message).toContain("did you mean 'trtllm-onnx'?");
  });
});

describe("command-line overrides", () => {
  it("rejects unknown names and components the preset does not have", async () => {
    const preset = await loadPreset("trtllm-onnx");
    expect(() => applyOverrides(preset, { backends: ["onxruntime"] })).toThrow(UsageError);
    expect(() => applyOverrides(preset, { without: ["dali"] })).toThrow(/has no such component/);
    expect(() => applyOverrides(preset, { images: ["base"] })).toThrow(/expected NAME=IMAGE/);
    expect(() => applyOverrides(preset, { images: ["bass=x:1"] })).toThrow(/unknown image name 'bass'/);
  });

  it("checks a backend's tag and an image's reference", async () => {
    const preset = await loadPreset("full");
    expect(() => applyOverrides(preset, { backends: ["python:r 1"] })).toThrow("--backend 'python:r 1': tag 'r 1' contains a space, a shell metacharacter");
    expect(() => applyOverrides(preset, { backends: ["python:$(id)"], backendsFrom: "TRITON_BUILD_BACKEND" })).toThrow(
      "TRITON_BUILD_BACKEND 'python:$(id)': tag '$(id)' contains '$', a shell metacharacter",
    );
    expect(() => applyOverrides(preset, { images: ["base=NOT VALID"] })).toThrow("--image 'base=NOT VALID': 'NOT VALID' is not a valid image reference");
    const digest = `nvcr.io/nvidia/tritonserver@sha256:${"a".repeat(64)}`;
    expect(applyOverrides(preset, { backends: ["python:pull/12/head"], images: [`base=${digest}`] }).images.base).toEqual({ kind: "ref", ref: digest });
  });

  it("--backend and --without of the same backend conflict", async () => {
    const preset = await loadPreset("trtllm-onnx");
    expect(() => applyOverrides(preset, { backends: ["onnxruntime:r1"], without: ["onnxruntime"] })).toThrow(
      "--backend onnxruntime:r1 and --without onnxruntime conflict",
    );
  });

  it("--without a backend another one needs is an error, not undone by build.py", async () => {
    const preset = await loadPreset("llm-plus-vision");
    expect(() => applyOverrides(preset, { without: ["python"] })).toThrow("--without 'python': vllm needs it, and build.py adds it back");
    expect(applyOverrides(preset, { without: ["python", "vllm"] }).backends.map((b) => b.name)).not.toContain("python");
  });

  it("does not change the preset it is given", async () => {
    const preset = await loadPreset("trtllm-onnx");
    const before = structuredClone(preset);
    applyOverrides(preset, { backends: ["dali"], without: ["python"] });
    expect(preset).toEqual(before);
  });
});
