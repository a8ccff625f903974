import { describe, expect, it } from "vitest";
import { parseCmakeBuild } from "./cmake-build.js";
import { markerCommand, markerLine, MERGE_STDERR, parseMarker, rewriteCmakeBuild } from "./rewrite.js";

const SCRIPT = [
  "#!/usr/bin/env bash",
  "set -e",
  "########",
  "# Triton core library and tritonserver executable",
  "# ",
  "echo core",
  "# ",
  "# end Triton core library and tritonserver executable",
  "########",
  "",
  "########",
  "# 'python' backend",
  "# Delete this section to remove backend from build",
  "# ",
  "echo python",
  "# ",
  "# end 'python' backend",
  "########",
  "",
  "########",
  "# Collect Triton CI artifacts",
  "# ",
  "cp -r /tmp/tritonbuild/python /tmp/tritonbuild/ci",
  "# ",
  "# end Triton CI artifacts",
  "########",
  "",
  "chmod -R a+rw /tmp/tritonbuild/install",
  "chmod -R a+rw /tmp/tritonbuild/ci",
].join("\n");

describe("rewriteCmakeBuild", () => {
  const script = parseCmakeBuild(SCRIPT);

  it("puts the run's environment first and each section's at the start of its subshell, outside the section text", () => {
    const out = rewriteCmakeBuild(script, {
      build: new Set(["core", "python"]),
      nonce: "n",
      prelude: ['export PATH="/x:$PATH"'],
      sectionPrelude: (section) => [`export TRITON_BUILD_COMPONENT=${section.name}`],
    }).split("\n");
    expect(out.slice(0, 3)).toEqual(["#!/usr/bin/env bash", MERGE_STDERR, 'export PATH="/x:$PATH"']);
    const python = out.indexOf(markerCommand("n", "begin", "python"));
    expect(out.slice(python + 1, python + 4)).toEqual(["(", "export TRITON_BUILD_COMPONENT=python", "########"]);
    // The sections themselves (what cache keys hash) are untouched.
    expect(script.sections.find((s) => s.name === "python")?.lines.join("\n")).not.toContain("TRITON_BUILD_COMPONENT");
  });

  it("keeps the chosen sections between markers and drops the others", () => {
    const out = rewriteCmakeBuild(script, { build: new Set(["python"]), nonce: "n1" }).split("\n");
    expect(out).not.toContain("echo core");
    expect(out).not.toContain("cp -r /tmp/tritonbuild/python /tmp/tritonbuild/ci");
    const begin = out.indexOf(markerCommand("n1", "begin", "python"));
    const end = out.indexOf(markerCommand("n1", "end", "python"));
    expect(begin).toBeGreaterThan(0);
    expect(out.slice(begin + 1, end)).toContain("echo python");
    expect(out[begin + 1]).toBe("(");
    expect(out[begin + 2]).toBe("########");
    expect(out[end - 2]).toBe("########");
    expect(out[end - 1]).toBe(")");
  });

  it("guards the trailing chmod lines when sections were removed", () => {
    const out = rewriteCmakeBuild(script, { build: new Set(["core", "python"]), nonce: "n" });
    expect(out).toContain("if [ -e /tmp/tritonbuild/ci ]; then chmod -R a+rw /tmp/tritonbuild/ci; fi");
    const all = rewriteCmakeBuild(script, { build: new Set(["core", "python", "ci"]), nonce: "n" });
    expect(all).toContain("\nchmod -R a+rw /tmp/tritonbuild/ci");
  });

  it("keeps everything outside sections in place", () => {
    const out = rewriteCmakeBuild(script, { build: new Set(["core"]), nonce: "n" });
    expect(out.startsWith(`#!/usr/bin/env bash\n${MERGE_STDERR}\nset -e\n`)).toBe(true);
  });

  it("applies a per-section transform", () => {
    const out = rewriteCmakeBuild(script, {
      build: new Set(["core"]),
      nonce: "n",
      transformSection: (s) => s.lines.map((l) => (l === "echo core" ? "echo changed" : l)),
    });
    expect(out).toContain("echo changed");
  });
});

describe("parseMarker", () => {
  it("accepts only markers with this run's nonce", () => {
    expect(parseMarker(markerLine("abc", "begin", "core"), "abc")).toEqual({ edge: "begin", name: "core" });
    expect(parseMarker(markerLine("abc", "end", "onnxruntime"), "abc")).toEqual({ edge: "end", name: "onnxruntime" });
    expect(parseMarker(markerLine("other", "begin", "core"), "abc")).toBeUndefined();
    expect(parseMarker(`+ echo ${markerLine("abc", "begin", "core")}`, "abc")).toBeUndefined();
    // what bash -x prints for the marker command: no marker in it
    expect(`+ ${markerCommand("abc", "begin", "core")}`).not.toContain(markerLine("abc", "begin", "core"));
    expect(parseMarker("@@triton-build:abc:middle:core", "abc")).toBeUndefined();
  });
});
