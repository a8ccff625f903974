import { describe, expect, it } from "vitest";
import { parseCmakeBuild } from "../buildpy/cmake-build.js";
import { cacheKey, canonicalJson, diffInputs, normalizeSection, sectionOrganization, sectionSources, unresolvedReason, type KeyInputs } from "./key.js";

const SECTION = [
  "########",
  "# 'onnxruntime' backend",
  "# Delete this section to remove backend from build",
  "# ",
  "set -x",
  "if [[ ! -e onnxruntime ]]; then",
  "  git clone --recursive --single-branch --depth=1 -b r24.05 https://mirror.example/org/onnxruntime_backend.git onnxruntime;",
  "fi",
  `cmake "-DTRITON_REPO_ORGANIZATION:STRING=https://mirror.example/org" "-DTRITON_COMMON_REPO_TAG:STRING=r24.05" "-DTRITON_CORE_REPO_TAG:STRING=r24.05" "-DTRITON_BACKEND_REPO_TAG:STRING=main" ..`,
  "cmake --build . --config Release -j16 -v -t install   ",
  "python3 build_wheel.py --job_count 8",
  "# ",
  "# end 'onnxruntime' backend",
  "########",
];
const section = parseCmakeBuild(SECTION.join("\n")).sections[0]!;

const inputs = (overrides: Partial<KeyInputs> = {}): KeyInputs => ({
  format: 1,
  component: { kind: "backend", name: "onnxruntime" },
  section: "abc",
  sources: { repo: { url: "https://a/onnxruntime_backend.git", ref: "r24.05", commit: "1".repeat(40) } },
  buildbase: { dockerfile: "d", baseImage: "base:1", baseImageId: "sha256:1" },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
  ...overrides,
});

describe("normalizeSection", () => {
  it("ignores parallelism, verbosity, set -x and the organisation", () => {
    const a = normalizeSection(SECTION, "https://mirror.example/org");
    const b = normalizeSection(
      SECTION.map((l) =>
        l
          .replace("-j16 -v", "-j2")
          .replace("--job_count 8", "--job_count 1")
          .replace(/https:\/\/mirror\.example\/org/g, "file:///srv/org"),
      ).filter((l) => l !== "set -x"),
      "file:///srv/org",
    );
    expect(a).toBe(b);
    expect(a).toContain("cmake --build . --config Release -j -t install");
    expect(a).toContain("-b r24.05 <org>/onnxruntime_backend.git");
  });

  it("keeps what changes outputs: tags and cmake arguments", () => {
    const base = normalizeSection(SECTION, "https://mirror.example/org");
    expect(
      normalizeSection(
        SECTION.map((l) => l.replace("-b r24.05", "-b r24.04")),
        "https://mirror.example/org",
      ),
    ).not.toBe(base);
    expect(
      normalizeSection(
        SECTION.map((l) => l.replace("Release", "Debug")),
        "https://mirror.example/org",
      ),
    ).not.toBe(base);
  });
});

describe("sectionSources", () => {
  it("names the component's repo and the shared repos at their tags", () => {
    expect(sectionOrganization(section)).toBe("https://mirror.example/org");
    expect(sectionSources(section, "/srv/server", "r24.05")).toEqual({
      repo: { url: "https://mirror.example/org/onnxruntime_backend.git", ref: "r24.05" },
      common: { url: "https://mirror.example/org/common.git", ref: "r24.05" },
      core: { url: "https://mirror.example/org/core.git", ref: "r24.05" },
      backend: { url: "https://mirror.example/org/backend.git", ref: "main" },
    });
  });

  it("a clone or repo tag it cannot read is a source with a problem, never left out", () => {
    const odd = {
      ...section,
      lines: ["git clone --recursive $REPO_URL onnxruntime_backend", "cmake -DTRITON_COMMON_REPO_TAG:STRING=r24.05 .."],
      repoUrl: undefined,
      tag: undefined,
    };
    const sources = sectionSources(odd, "/srv/server", "r24.05");
    expect(sources.repo?.problem).toMatch(/git clone line/);
    expect(sources.common).toMatchObject({ ref: "r24.05", problem: "TRITON_COMMON_REPO_TAG without TRITON_REPO_ORGANIZATION" });
  });
});

describe("sectionSources: a value git would read as an option", () => {
  it("an organisation or repo tag starting with '-' is a source with a problem (never given to git)", () => {
    const line = `cmake "-DTRITON_REPO_ORGANIZATION:STRING=--exec=>/tmp/x;true" "-DTRITON_COMMON_REPO_TAG:STRING=main" /workspace`;
    const sources = sectionSources({ ...section, kind: "core", name: "core", lines: [line] }, "/srv/server", "main");
    expect(sources.common?.problem).toMatch(/starts with '-'/);
    const clone = sectionSources({ ...section, repoUrl: "--upload-pack=x", tag: "r24.05" }, "/srv/server", "r24.05");
    expect(clone.repo?.problem).toMatch(/starting with '-'/);
  });
});

describe("cacheKey", () => {
  it("is stable over key order and ignores source URLs and error texts", () => {
    const a = inputs();
    const b = JSON.parse(canonicalJson(a)) as KeyInputs;
    expect(cacheKey(a)).toBe(cacheKey(b));
    expect(cacheKey(inputs({ sources: { repo: { url: "file:///other/onnxruntime_backend.git", ref: "r24.05", commit: "1".repeat(40) } } }))).toBe(cacheKey(a));
  });

  it("changes with every input that can change the outputs", () => {
    const base = cacheKey(inputs());
    const variants: Partial<KeyInputs>[] = [
      { section: "abd" },
      { sources: { repo: { url: "u", ref: "r24.05", commit: "2".repeat(40) } } },
      { buildbase: { dockerfile: "d", baseImage: "base:1", baseImageId: "sha256:2" } },
      { buildbase: { dockerfile: "e", baseImage: "base:1", baseImageId: "sha256:1" } },
      { platform: { os: "linux", arch: "aarch64" } },
      { settings: { cudaArch: "90-real" } },
      { component: { kind: "backend", name: "python" } },
      { format: 2 },
    ];
    for (const variant of variants) expect(cacheKey(inputs(variant)), JSON.stringify(variant)).not.toBe(base);
  });

  it("an unresolved ref or base image makes the inputs unusable, with the reason", () => {
    expect(unresolvedReason(inputs())).toBeUndefined();
    expect(unresolvedReason(inputs({ sources: { repo: { url: "u", ref: "v9", commit: null, error: "offline" } } }))).toBe("cannot resolve repo u v9 (offline)");
    expect(unresolvedReason(inputs({ buildbase: { dockerfile: "d", baseImage: "b:1", baseImageId: null } }))).toMatch(/base image b:1 has no known id/);
  });
});

describe("diffInputs", () => {
  it("names what differs", () => {
    const now = inputs({ sources: { repo: { url: "u", ref: "r24.06", commit: "3".repeat(40) } }, settings: { cudaArch: "90-real" } });
    expect(diffInputs(now, inputs())).toEqual(["repo ref r24.05 -> r24.06", "cudaArch (unset) -> 90-real"]);
    expect(diffInputs(inputs({ sources: { repo: { url: "u", ref: "r24.05", commit: "4".repeat(40) } } }), inputs())).toEqual([
      "repo commit 111111111111 -> 444444444444 (r24.05)",
    ]);
  });
});
