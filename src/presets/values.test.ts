import { describe, expect, it } from "vitest";
import {
  cmakeNameProblem,
  cmakeValueProblem,
  computeCapabilityProblem,
  gitRefProblem,
  hasReplacementCharacter,
  parseJobs,
  presetBuildpyArgProblem,
  repositoryUrlProblem,
  showValue,
} from "./values.js";

/** Every character bash acts on, unquoted or inside build.py's double quotes. */
const METACHARACTERS = [..."|&;<>()$`\\\"' \t\n*?[]{}#~!"];

describe("git branches and tags", () => {
  it("accepts what releases, pull requests and slashes use", () => {
    for (const ref of ["r24.05", "v0.9.0", "main", "pull/123/head", "release/2.x", "1.0+build", "feature_x", "a@b", "deadbeef", "0".repeat(40)]) {
      expect(gitRefProblem(ref), ref).toBeUndefined();
    }
  });

  it("refuses every shell metacharacter, naming it", () => {
    for (const char of METACHARACTERS) expect(gitRefProblem(`r24.05${char}x`), JSON.stringify(char)).toMatch(/^contains /);
    expect(gitRefProblem("r24.05;mkdir${IFS}-p${IFS}/tmp/x;#")).toBe(
      "contains ';', a shell metacharacter; a git branch or tag has only letters, digits and . _ - / + @ % , =",
    );
    expect(gitRefProblem("$(id)")).toContain("'$', a shell metacharacter");
    expect(gitRefProblem("a b")).toContain("a space, a shell metacharacter");
    expect(gitRefProblem("a\nb")).toContain("a control character (\\u000a)");
  });

  it("refuses option-like refs and what git check-ref-format refuses", () => {
    expect(gitRefProblem("--upload-pack=touch /tmp/x")).toBe("starts with '-', which git would read as an option");
    for (const ref of ["", "a..b", "a//b", "/a", "a/", ".a", "a/.b", "a.", "a.lock", "x:y", "a^b", "a~1", "a\u00e9"]) {
      expect(gitRefProblem(ref), ref).toBeDefined();
    }
    expect(gitRefProblem("x".repeat(201))).toBe("is longer than 200 characters");
  });

  it("names bytes that were not UTF-8 for what they are", () => {
    expect(gitRefProblem("r24.05\ufffd")).toBe(
      "contains bytes that are not valid UTF-8 (shown as U+FFFD); a git branch or tag has only letters, digits and . _ - / + @ % , =",
    );
    expect(hasReplacementCharacter("r\ufffd")).toBe(true);
    expect(hasReplacementCharacter("r24.05")).toBe(false);
  });
});

describe("repository URLs", () => {
  it("accepts URLs, scp-style addresses and absolute paths", () => {
    for (const url of [
      "https://github.com/triton-inference-server",
      "http://mirror.local:8080/triton",
      "ssh://git@host/org",
      "git://host/org",
      "file:///srv/mirrors/org",
      "git@github.com:triton-inference-server",
      "/srv/mirrors/org",
      "https://host/~user/org",
    ]) {
      expect(repositoryUrlProblem(url), url).toBeUndefined();
    }
  });

  it("refuses shell metacharacters and what is no URL", () => {
    // '~' only acts at the start of a word, where a URL never has it
    for (const char of METACHARACTERS.filter((c) => c !== "~")) {
      expect(repositoryUrlProblem(`https://host/org${char}x`), JSON.stringify(char)).toMatch(/^contains /);
    }
    expect(repositoryUrlProblem("https://github.com/org;touch /tmp/x;#")).toContain("contains ';', a shell metacharacter");
    for (const url of ["", "-uhttps://x", "relative/path", "ext::sh", "https://", "~/org"]) expect(repositoryUrlProblem(url), url).toBeDefined();
  });
});

describe("CMake names and values", () => {
  it("names are identifiers", () => {
    expect(cmakeNameProblem("TRITON_ENABLE_GPU")).toBeUndefined();
    expect(cmakeNameProblem("_x1")).toBeUndefined();
    expect(cmakeNameProblem("A B")).toContain("a space, a shell metacharacter");
    expect(cmakeNameProblem("A=B")).toContain("'='");
    expect(cmakeNameProblem("1A")).toBeDefined();
    expect(cmakeNameProblem("")).toBeDefined();
  });

  it("values are printable ASCII, with spaces and CMake lists, without what bash expands in double quotes", () => {
    for (const value of ["ON", "80-real;90-real", "-O2 -g", "/usr/local/tensorrt", "a'b", "x#y", ""]) expect(cmakeValueProblem(value), value).toBeUndefined();
    expect(cmakeValueProblem("$(touch /tmp/x)")).toBe(
      "contains '$', which bash expands inside build.py's double quotes; a CMake value here is printable ASCII without $ ` \" \\",
    );
    expect(cmakeValueProblem("`id`")).toContain("'`'");
    expect(cmakeValueProblem('a"b')).toContain("'\"'");
    expect(cmakeValueProblem("a\\b")).toContain("'\\'");
    expect(cmakeValueProblem("a\nb")).toContain("a control character");
    expect(cmakeValueProblem("caf\u00e9")).toContain("'\u00e9'");
  });
});

describe("numbers", () => {
  it("compute capabilities", () => {
    expect(computeCapabilityProblem("6.0")).toBeUndefined();
    expect(computeCapabilityProblem("10.0")).toBeUndefined();
    for (const value of ["6", "6.0;id", "x", "6.00"]) expect(computeCapabilityProblem(value), value).toBeDefined();
  });

  it("job counts are positive decimal integers up to 1024", () => {
    expect(parseJobs("1")).toEqual({ jobs: 1 });
    expect(parseJobs("1024")).toEqual({ jobs: 1024 });
    expect(parseJobs("1025")).toEqual({ problem: "is more than 1024 jobs" });
    expect(parseJobs("99999999999")).toEqual({ problem: "is more than 1024 jobs" });
    for (const raw of ["0x10", "1e3", "0", "-1", "+1", "1.0", " 1", "", "01", "Infinity"])
      expect(parseJobs(raw), raw).toEqual({ problem: "is not a positive decimal integer" });
  });
});

describe("a preset's build.py arguments", () => {
  it("flags and values without shell metacharacters", () => {
    expect(presetBuildpyArgProblem("--build-type=Debug")).toBeUndefined();
    expect(presetBuildpyArgProblem("--extra-core-cmake-arg=A=1")).toBeUndefined();
    expect(presetBuildpyArgProblem("--container-prebuild-command=touch /tmp/x")).toContain("a space, a shell metacharacter");
    expect(presetBuildpyArgProblem("--backend=x:$(id)")).toContain("'$'");
  });
});

describe("showing a value", () => {
  it("quotes it and escapes what a terminal would act on", () => {
    expect(showValue("r24.05")).toBe("'r24.05'");
    expect(showValue("a\u001b[31mb")).toBe("'a\\u001b[31mb'");
    expect(showValue("a\u009bb\u202ec")).toBe("'a\\u009bb\\u202ec'");
  });
});
