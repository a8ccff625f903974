import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheKey, type KeyInputs } from "./key.js";
import { readManifest, type Manifest } from "./manifest.js";
import { signatureProblem, signManifest } from "./signing.js";

const SECRET = "fleet-secret-1";

const inputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "onnxruntime" },
  section: "5".repeat(64),
  sources: { repo: { url: "https://example.invalid/onnxruntime_backend.git", ref: "r24.05", commit: "c".repeat(40) } },
  buildbase: { dockerfile: "d".repeat(64), baseImage: "nvcr.io/nvidia/tritonserver:24.05-py3-min", baseImageId: "sha256:".padEnd(71, "e") },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};

function manifest(): Manifest {
  return {
    format: 1,
    key: cacheKey(inputs),
    component: { name: "onnxruntime", kind: "backend", tag: "r24.05" },
    inputs,
    files: [
      { path: "backends/onnxruntime/libtriton_onnxruntime.so", size: 13, sha256: "1".repeat(64), mode: 0o755 },
      { path: "backends/onnxruntime/lib/dep.so.1", size: 10, sha256: "2".repeat(64), mode: 0o644 },
    ],
    symlinks: [{ path: "backends/onnxruntime/lib/dep.so", target: "dep.so.1" }],
    dirs: [
      { path: "backends/onnxruntime", mode: 0o755 },
      { path: "backends/onnxruntime/lib", mode: 0o755 },
    ],
    roots: ["backends/onnxruntime"],
    totalBytes: 23,
    createdAt: "2024-05-01T00:00:00.000Z",
    buildDurationMs: 1234,
  };
}

function signed(m: Manifest = manifest(), secret = SECRET): Manifest {
  return { ...m, signature: signManifest(m, secret) };
}

/** The same object with its keys in reverse order at every level. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    ) as T;
  }
  return value;
}

describe("signManifest / signatureProblem", () => {
  it("a manifest signed with the secret verifies", () => {
    const signature = signManifest(manifest(), SECRET);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signatureProblem(signed(), SECRET)).toBeUndefined();
  });

  it("verifies after a round trip through manifest.json, as a pulled entry is read", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tb-signing-"));
    try {
      const file = path.join(dir, "manifest.json");
      await writeFile(file, `${JSON.stringify(signed(), null, 1)}\n`);
      const read = await readManifest(file);
      expect(read).toBeDefined();
      expect(signatureProblem(read as Manifest, SECRET)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the signature field itself is not signed: re-signing a signed manifest gives the same value", () => {
    const once = signed();
    expect(signManifest(once, SECRET)).toBe(once.signature);
  });

  it("one file's sha256 changed is rejected", () => {
    const altered = signed();
    altered.files = altered.files.map((f, i) => (i === 1 ? { ...f, sha256: "3".repeat(64) } : f));
    expect(signatureProblem(altered, SECRET)).toMatch(/signature does not match/);
  });

  it("any other change is rejected too: a file added, a root, a symlink target, the key inputs", () => {
    const changes: Array<[string, (m: Manifest) => void]> = [
      ["file added", (m) => m.files.push({ path: "backends/onnxruntime/extra.so", size: 1, sha256: "4".repeat(64), mode: 0o644 })],
      ["mode", (m) => (m.files[0] = { ...m.files[0]!, mode: 0o4755 })],
      ["root", (m) => (m.roots = ["backends/onnxruntime", "backends/python"])],
      ["symlink target", (m) => (m.symlinks = [{ path: "backends/onnxruntime/lib/dep.so", target: "../../python/x" }])],
      ["inputs", (m) => (m.inputs = { ...m.inputs, section: "6".repeat(64) })],
      ["totalBytes", (m) => (m.totalBytes = 24)],
    ];
    for (const [name, change] of changes) {
      const m = signed();
      change(m);
      expect(signatureProblem(m, SECRET), name).toMatch(/signature does not match/);
    }
  });

  it("a manifest signed with another secret is rejected", () => {
    expect(signatureProblem(signed(manifest(), "another-secret"), SECRET)).toMatch(/signature does not match \(altered, or signed with another key\)/);
  });

  it("an unsigned manifest is rejected when a secret is set", () => {
    expect(signatureProblem(manifest(), SECRET)).toBe("the entry is not signed");
    expect(signatureProblem({ ...manifest(), signature: "" }, SECRET)).toBe("the entry is not signed");
  });

  it("a malformed or truncated signature is rejected, not thrown on", () => {
    const good = signed();
    for (const signature of ["not hex at all", good.signature!.slice(0, 32), `${good.signature}00`, "zz"]) {
      expect(() => signatureProblem({ ...good, signature }, SECRET)).not.toThrow();
      expect(signatureProblem({ ...good, signature }, SECRET), signature).toMatch(/signature does not match/);
    }
  });

  it("the canonical form does not depend on key order (JSON written by another tool)", () => {
    const m = manifest();
    const reordered = reverseKeys(m);
    expect(Object.keys(reordered)[0]).toBe("buildDurationMs");
    expect(signManifest(reordered, SECRET)).toBe(signManifest(m, SECRET));
    expect(signatureProblem({ ...reverseKeys(m), signature: signManifest(m, SECRET) }, SECRET)).toBeUndefined();
  });

  it("array order does matter: the file list is part of what is signed", () => {
    const m = manifest();
    const swapped = { ...m, files: [...m.files].reverse() };
    expect(signManifest(swapped, SECRET)).not.toBe(signManifest(m, SECRET));
  });
});
