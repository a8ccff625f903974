import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheIntegrityError } from "../errors.js";
import { processHost } from "../util/process.js";
import type { KeyInputs } from "./key.js";
import { LocalCache } from "./store.js";

let dir: string;
let cache: LocalCache;
let install: string;

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);
const inputs = {
  format: 1,
  // The component most tests here store: check() holds an entry to the component its key is for.
  component: { kind: "backend", name: "onnxruntime" },
  section: "s",
  sources: {},
  buildbase: { dockerfile: "d", baseImage: "i", baseImageId: "i" },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
} satisfies KeyInputs;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-store-"));
  cache = new LocalCache(path.join(dir, "cache"));
  install = path.join(dir, "build", "install");
  await mkdir(path.join(install, "backends", "onnxruntime", "lib"), { recursive: true });
  await writeFile(path.join(install, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "library bytes");
  await writeFile(path.join(install, "backends", "onnxruntime", "lib", "dep.so.1"), "dependency");
  await chmod(path.join(install, "backends", "onnxruntime", "libtriton_onnxruntime.so"), 0o755);
  await symlink("dep.so.1", path.join(install, "backends", "onnxruntime", "lib", "dep.so"));
  await mkdir(path.join(install, "bin"), { recursive: true });
  await writeFile(path.join(install, "bin", "tritonserver"), "server");
  await writeFile(path.join(install, "TRITON_VERSION"), "2.46.0\n");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const storeOnnx = (key = KEY_A) =>
  cache.store({ key, inputs, component: { name: "onnxruntime", kind: "backend", tag: "r24.05" }, installRoot: install, buildDurationMs: 1234 });

async function freshInstall(): Promise<string> {
  const other = path.join(dir, `other-${Math.random().toString(16).slice(2)}`, "install");
  await mkdir(other, { recursive: true });
  return other;
}

describe("LocalCache", () => {
  it("stores a component's outputs only, and restores them byte for byte with modes and symlinks", async () => {
    expect(await storeOnnx()).toBe("stored");
    const manifest = await cache.get(KEY_A);
    expect(manifest?.roots).toEqual(["backends/onnxruntime"]);
    expect(manifest?.files.map((f) => f.path).sort()).toEqual(["backends/onnxruntime/lib/dep.so.1", "backends/onnxruntime/libtriton_onnxruntime.so"]);
    expect(manifest?.symlinks).toEqual([{ path: "backends/onnxruntime/lib/dep.so", target: "dep.so.1" }]);
    expect(manifest?.buildDurationMs).toBe(1234);

    const target = await freshInstall();
    const result = await cache.restore(KEY_A, target);
    expect(result.files).toBe(2);
    expect(await readFile(path.join(target, "backends/onnxruntime/libtriton_onnxruntime.so"), "utf8")).toBe("library bytes");
    expect(await readFile(path.join(target, "backends/onnxruntime/lib/dep.so"), "utf8")).toBe("dependency");
    const { stat } = await import("node:fs/promises");
    expect((await stat(path.join(target, "backends/onnxruntime/libtriton_onnxruntime.so"))).mode & 0o777).toBe(0o755);
    expect(await readdir(path.dirname(target))).toEqual(["install"]);
  });

  it("core owns everything but backends, repo agents and caches", async () => {
    await cache.store({ key: KEY_B, inputs, component: { name: "core", kind: "core" }, installRoot: install });
    expect((await cache.get(KEY_B))?.roots).toEqual(["TRITON_VERSION", "bin"]);
  });

  it("a second store of the same key is a no-op", async () => {
    await storeOnnx();
    expect(await storeOnnx()).toBe("exists");
  });

  it("an entry whose manifest was cut short is reported and replaced, not used or stuck", async () => {
    await storeOnnx();
    await writeFile(path.join(cache.entryDir(KEY_A), "manifest.json"), '{"format": 1, "key": "');
    expect(await cache.get(KEY_A)).toBeUndefined();
    expect(await cache.broken()).toEqual([KEY_A]);
    expect(await storeOnnx()).toBe("stored");
    expect(await cache.check(KEY_A)).toBeUndefined();
    expect(await cache.broken()).toEqual([]);
  });

  it("a component that installed nothing is not stored", async () => {
    expect(await cache.store({ key: KEY_B, inputs, component: { name: "dali", kind: "backend" }, installRoot: install })).toBe("empty");
    expect(await cache.get(KEY_B)).toBeUndefined();
  });

  it("a flipped byte is detected on restore; nothing half-restored is left behind", async () => {
    await storeOnnx();
    const file = path.join(cache.entryDir(KEY_A), "files", "backends/onnxruntime/lib/dep.so.1");
    const bytes = await readFile(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    const target = await freshInstall();
    await expect(cache.restore(KEY_A, target)).rejects.toThrow(CacheIntegrityError);
    expect(await readdir(target)).toEqual([]);
    expect(await readdir(path.dirname(target))).toEqual(["install"]);
    expect(await cache.check(KEY_A)).toMatch(/dep\.so\.1 does not match its sha256/);
    await cache.evict(KEY_A);
    expect(await cache.get(KEY_A)).toBeUndefined();
  });

  it("check finds missing and unlisted files", async () => {
    await storeOnnx();
    await writeFile(path.join(cache.entryDir(KEY_A), "files", "backends/onnxruntime/extra"), "x");
    expect(await cache.check(KEY_A)).toMatch(/extra is not in the manifest/);
    await rm(path.join(cache.entryDir(KEY_A), "files", "backends/onnxruntime/libtriton_onnxruntime.so"));
    expect(await cache.check(KEY_A)).toMatch(/is missing/);
  });

  it("a manifest with paths outside the entry is refused", async () => {
    await storeOnnx();
    const manifestPath = path.join(cache.entryDir(KEY_A), "manifest.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
    manifest.files[0].path = "../../../etc/passwd";
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(cache.restore(KEY_A, await freshInstall())).rejects.toThrow(/unsafe path/);
  });

  it("an entry may only write its own part of the install tree, and no symlink may lead out of it", async () => {
    await storeOnnx();
    const manifestPath = path.join(cache.entryDir(KEY_A), "manifest.json");
    const good = JSON.parse(await readFile(manifestPath, "utf8"));
    const cases: Array<[string, (m: typeof good) => void, RegExp]> = [
      ["other root", (m) => (m.roots = ["backends"]), /may only install backends\/onnxruntime/],
      [
        "path outside the root",
        (m) => m.files.push({ path: "bin/tritonserver", size: 1, sha256: "0".repeat(64), mode: 0o755 }),
        /outside the component's part/,
      ],
      ["symlink out of the tree", (m) => (m.symlinks = [{ path: "backends/onnxruntime/lib/dep.so", target: "/etc/passwd" }]), /points outside/],
      [
        "symlink up and out",
        (m) => {
          m.symlinks = [{ path: "backends/onnxruntime/x", target: "../../../etc" }];
        },
        /points outside/,
      ],
      [
        "symlink on the way",
        (m) => {
          m.symlinks = [{ path: "backends/onnxruntime/lib", target: "dep" }];
        },
        /symlink in the path of other files/,
      ],
      [
        "core writing backends",
        (m) => {
          m.component = { name: "core", kind: "core" };
          m.roots = ["backends"];
        },
        /core may not install 'backends'/,
      ],
    ];
    for (const [name, change, error] of cases) {
      const manifest = structuredClone(good);
      change(manifest);
      await writeFile(manifestPath, JSON.stringify(manifest));
      await expect(cache.restore(KEY_A, await freshInstall()), name).rejects.toThrow(error);
    }
  });

  it("two writers of one key at once: one entry, sound", async () => {
    const results = await Promise.all([storeOnnx(), storeOnnx(), storeOnnx()]);
    expect(results.filter((r) => r === "stored")).toHaveLength(1);
    expect(await cache.check(KEY_A)).toBeUndefined();
  });

  it("leftovers of a writer that was killed are not entries, and prune removes them", async () => {
    // A real process that dies with a half-written entry in tmp/.
    const dead = spawn("sh", ["-c", "exit 0"]);
    await new Promise((resolve) => dead.on("exit", resolve));
    // named as this host's writer with that (now dead) pid would name it
    const made = await cache.newTempDir(KEY_B);
    const leftover = made.replace(/\.(\d+)\.([0-9a-f]+)$/, `.${dead.pid}.abcd`);
    await rename(made, leftover);
    await mkdir(path.join(leftover, "files"), { recursive: true });
    await writeFile(path.join(leftover, "files", "half"), "partial");
    const lockDir = path.join(cache.root, "locks", `${KEY_B}.lock`);
    await mkdir(lockDir, { recursive: true });
    await writeFile(path.join(lockDir, "owner.json"), JSON.stringify({ pid: dead.pid, host: processHost(), since: "" }));

    expect(await cache.get(KEY_B)).toBeUndefined();
    expect(await cache.list()).toEqual([]);
    // the dead writer's lock does not block a new writer
    expect(await cache.store({ key: KEY_B, inputs, component: { name: "onnxruntime", kind: "backend" }, installRoot: install })).toBe("stored");
    expect(await cache.cleanTemp()).toBe(1);
    expect(await readdir(path.join(cache.root, "tmp"))).toEqual([]);
  });

  it("prune removes the least recently used first, down to the size", async () => {
    await storeOnnx(KEY_A);
    await cache.store({ key: KEY_B, inputs, component: { name: "core", kind: "core" }, installRoot: install });
    const old = new Date(Date.now() - 40 * 86400_000);
    await utimes(path.join(cache.entryDir(KEY_A), "last-used"), old, old);
    const byAge = await cache.prune({ olderThanMs: 30 * 86400_000 });
    expect(byAge.removed.map((e) => e.manifest.key)).toEqual([KEY_A]);
    await storeOnnx(KEY_A);
    await utimes(path.join(cache.entryDir(KEY_B), "last-used"), old, old);
    const bySize = await cache.prune({ maxBytes: 30 });
    expect(bySize.removed.map((e) => e.manifest.key)).toEqual([KEY_B]);
    expect((await cache.list()).map((e) => e.manifest.key)).toEqual([KEY_A]);
  });

  it("records runs for the hit ratio", async () => {
    await cache.recordRun({ preset: "p", hits: 3, misses: 1 });
    await cache.recordRun({ preset: "p", hits: 4, misses: 0 });
    expect((await cache.recentRuns()).map((r) => r.hits)).toEqual([3, 4]);
  });
});
