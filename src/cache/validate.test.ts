import { describe, expect, it } from "vitest";
import type { Manifest } from "./manifest.js";
import { manifestProblem, parentPaths } from "./validate.js";

/**
 * The pure checks of a manifest, by value. (Entries crafted on disk, against adopt and restore,
 * are in hostile-entry.test.ts; speed on a 100,000-path entry is row 9 of BENCHMARKS.md.)
 */

const KEY = "a".repeat(64);

function manifest(component: { kind: string; name: string }, roots: string[], parts: Partial<Pick<Manifest, "files" | "dirs" | "symlinks">>): Manifest {
  return {
    format: 1,
    key: KEY,
    component,
    inputs: {} as Manifest["inputs"],
    files: parts.files ?? [],
    dirs: parts.dirs ?? [],
    symlinks: parts.symlinks ?? [],
    roots,
    totalBytes: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
  };
}

const file = (p: string, mode = 0o644) => ({ path: p, size: 0, sha256: "e".repeat(64), mode });
const dir = (p: string, mode = 0o755) => ({ path: p, mode });
const ONNX = { kind: "backend", name: "onnxruntime" };
const CORE = { kind: "core", name: "core" };

describe("parentPaths", () => {
  it("every proper ancestor, once, whatever the order", () => {
    expect([...parentPaths(["a/b/c", "a/b", "x", "a/d/e"])].sort()).toEqual(["a", "a/b", "a/d"]);
    expect([...parentPaths(["a/d/e", "a/b/c"])].sort()).toEqual(["a", "a/b", "a/d"]);
    expect([...parentPaths([])]).toEqual([]);
  });
});

describe("manifestProblem", () => {
  const root = "backends/onnxruntime";
  const sound = () => manifest(ONNX, [root], { dirs: [dir(root), dir(`${root}/lib`)], files: [file(`${root}/lib/a.so`)] });

  it("accepts a sound entry", () => {
    expect(manifestProblem(sound(), { key: KEY, component: ONNX })).toBeUndefined();
  });

  it("refuses a link that stands in the path of a path listed after it, or before it", () => {
    const after = sound();
    after.symlinks.push({ path: `${root}/lib2`, target: "lib" });
    after.files.push(file(`${root}/lib2/b.so`));
    expect(manifestProblem(after, { key: KEY })).toBe(`${root}/lib2 is a symlink in the path of other files`);
    const before = sound();
    before.files.unshift(file(`${root}/l/x/y.so`));
    before.symlinks.push({ path: `${root}/l`, target: "lib" });
    expect(manifestProblem(before, { key: KEY })).toBe(`${root}/l is a symlink in the path of other files`);
    // A name that only starts the same way is no parent.
    const sibling = sound();
    sibling.symlinks.push({ path: `${root}/li`, target: "lib" });
    expect(manifestProblem(sibling, { key: KEY })).toBeUndefined();
  });

  it("refuses directories without u+rwx and files without u+r, which a restore as another user cannot handle", () => {
    const readOnlyDir = sound();
    readOnlyDir.dirs[1] = dir(`${root}/lib`, 0o500);
    expect(manifestProblem(readOnlyDir, { key: KEY })).toMatch(/lib has mode 0o500: a directory must be readable, writable and searchable by its owner/);
    const unreadable = sound();
    unreadable.files[0] = file(`${root}/lib/a.so`, 0o044);
    expect(manifestProblem(unreadable, { key: KEY })).toMatch(/a\.so has mode 0o044: a file must be readable by its owner/);
    const readOnlyFile = sound();
    readOnlyFile.files[0] = file(`${root}/lib/a.so`, 0o444);
    expect(manifestProblem(readOnlyFile, { key: KEY })).toBeUndefined();
  });

  it("requires each root in the entry: a directory, or for core also a file (build.py copies LICENSE into the install root)", () => {
    expect(manifestProblem(manifest(ONNX, [root], {}), { key: KEY })).toBe(`root ${root} is not listed as a directory`);
    expect(manifestProblem(manifest(ONNX, [root], { files: [file(root)] }), { key: KEY })).toBe(`root ${root} is not listed as a directory`);
    const core = manifest(CORE, ["LICENSE", "bin"], { files: [file("LICENSE"), file("bin/tritonserver", 0o755)], dirs: [dir("bin")] });
    expect(manifestProblem(core, { key: KEY, component: CORE })).toBeUndefined();
    const missing = manifest(CORE, ["LICENSE", "lib"], { files: [file("LICENSE")] });
    expect(manifestProblem(missing, { key: KEY })).toBe("root lib is not listed as a directory or a file");
  });
});
