import { createHash } from "node:crypto";
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheIntegrityError } from "../errors.js";
import { fileStamp } from "./file-stamp.js";
import { cacheKey, type KeyInputs } from "./key.js";
import type { Manifest } from "./manifest.js";
import { signatureProblem, signManifest } from "./signing.js";
import { LocalCache } from "./store.js";

/**
 * LocalCache.adopt takes entries that arrived from elsewhere (a registry). Each case starts from a
 * sound entry made by a real store() in another cache, changes one thing, and expects a refusal
 * that leaves nothing behind.
 */

let dir: string;
let source: LocalCache;
let cache: LocalCache;
let key: string;

const inputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "onnxruntime" },
  section: "5".repeat(64),
  sources: { repo: { url: "https://example.invalid/onnxruntime_backend.git", ref: "r24.05", commit: "c".repeat(40) } },
  buildbase: { dockerfile: "d".repeat(64), baseImage: "base:24.05", baseImageId: "sha256:".padEnd(71, "e") },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};

/**
 * dep.so.1 is over 1 MiB: files that large are the ones a stamp spares from a second hash (smaller
 * ones are read whole and hashed on every restore).
 */
const DEP_BYTES = Buffer.concat([Buffer.from("dependency"), Buffer.alloc(1 << 20, ".")]);

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-adopt-"));
  const install = path.join(dir, "install");
  await mkdir(path.join(install, "backends", "onnxruntime", "lib"), { recursive: true });
  await writeFile(path.join(install, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "library bytes");
  await writeFile(path.join(install, "backends", "onnxruntime", "lib", "dep.so.1"), DEP_BYTES);
  await symlink("dep.so.1", path.join(install, "backends", "onnxruntime", "lib", "dep.so"));
  await mkdir(path.join(install, "bin"), { recursive: true });
  await writeFile(path.join(install, "bin", "tritonserver"), "server");
  key = cacheKey(inputs);
  source = new LocalCache(path.join(dir, "source-cache"));
  expect(await source.store({ key, inputs, component: { name: "onnxruntime", kind: "backend", tag: "r24.05" }, installRoot: install })).toBe("stored");
  cache = new LocalCache(path.join(dir, "cache"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A copy of the sound entry in the cache's tmp/, as remote.fetch prepares one; `change` edits its manifest. */
async function arrived(change?: (manifest: Manifest) => void): Promise<string> {
  const tmp = await cache.newTempDir(key);
  await cp(path.join(source.entryDir(key), "manifest.json"), path.join(tmp, "manifest.json"));
  await cp(path.join(source.entryDir(key), "files"), path.join(tmp, "files"), { recursive: true, verbatimSymlinks: true });
  if (change) {
    const manifest = JSON.parse(await readFile(path.join(tmp, "manifest.json"), "utf8")) as Manifest;
    change(manifest);
    await writeFile(path.join(tmp, "manifest.json"), JSON.stringify(manifest, null, 1));
  }
  return tmp;
}

const ls = (p: string) => readdir(p).catch(() => [] as string[]);

/** Refused with a CacheIntegrityError matching `message`; no entry, no temp dir left. */
async function expectRefused(adoption: Promise<unknown>, tmp: string, message: RegExp, keys: string[] = [key]): Promise<void> {
  const error = await adoption.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "adopt should have refused the entry").toBeInstanceOf(CacheIntegrityError);
  expect((error as Error).message).toMatch(message);
  expect(await ls(path.join(cache.root, "entries"))).toEqual([]);
  for (const k of keys) expect(await cache.get(k)).toBeUndefined();
  expect(await cache.list()).toEqual([]);
  expect(await ls(tmp)).toEqual([]);
  expect(await ls(path.join(cache.root, "tmp"))).toEqual([]);
}

describe("LocalCache.adopt", () => {
  it("adopts a sound entry (the control for the refusals below)", async () => {
    const tmp = await arrived();
    const manifest = await cache.adopt(tmp, key);
    expect(manifest.key).toBe(key);
    expect(await cache.check(key)).toBeUndefined();
    expect(await ls(path.join(cache.root, "tmp"))).toEqual([]);
    const restored = path.join(dir, "restored", "install");
    await mkdir(restored, { recursive: true });
    await cache.restore(key, restored);
    expect(await readFile(path.join(restored, "backends/onnxruntime/lib/dep.so"))).toEqual(DEP_BYTES);
  });

  it("refuses an entry whose manifest names another key", async () => {
    const tmp = await arrived();
    const other = "f".repeat(64);
    await expectRefused(cache.adopt(tmp, other), tmp, /it says it is [0-9a-f]{12}, not ffffffffffff/, [key, other]);
  });

  it("refuses an entry whose key inputs do not hash to its key", async () => {
    const tmp = await arrived((m) => {
      m.inputs = { ...m.inputs, sources: { repo: { url: "https://example.invalid/onnxruntime_backend.git", ref: "r24.05", commit: "0".repeat(40) } } };
    });
    await expectRefused(cache.adopt(tmp, key), tmp, /key inputs do not hash to its key/);
  });

  it("refuses, when no component is named, an entry that holds another component than its key inputs name", async () => {
    // The inputs are python's, so they hash to the key it sits under; only the held component differs.
    const pythonInputs: KeyInputs = { ...inputs, component: { kind: "backend", name: "python" } };
    const pythonKey = cacheKey(pythonInputs);
    const tmp = await arrived((m) => {
      m.key = pythonKey;
      m.inputs = pythonInputs;
    });
    await expectRefused(cache.adopt(tmp, pythonKey), tmp, /^it holds backend 'onnxruntime', not backend 'python'$/, [key, pythonKey]);
  });

  it("refuses an entry with a file whose bytes do not match the manifest's sha256", async () => {
    const tmp = await arrived();
    const file = path.join(tmp, "files", "backends/onnxruntime/lib/dep.so.1");
    const bytes = await readFile(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    await expectRefused(cache.adopt(tmp, key), tmp, /dep\.so\.1 does not match its sha256/);
  });

  it("refuses an entry whose manifest lists a sha256 the file does not have", async () => {
    const tmp = await arrived((m) => {
      m.files[0] = { ...m.files[0]!, sha256: "0".repeat(64) };
    });
    await expectRefused(cache.adopt(tmp, key), tmp, /does not match its sha256/);
  });

  it("refuses an entry with a file the manifest does not list", async () => {
    const tmp = await arrived();
    await writeFile(path.join(tmp, "files", "backends/onnxruntime/unlisted"), "extra");
    await expectRefused(cache.adopt(tmp, key), tmp, /backends\/onnxruntime\/unlisted is not in the manifest/);
  });

  it("refuses an entry whose listed directory is a symlink to a directory outside it", async () => {
    const tmp = await arrived();
    const outside = path.join(dir, "outside");
    await cp(path.join(tmp, "files", "backends/onnxruntime/lib"), outside, { recursive: true, verbatimSymlinks: true });
    await rm(path.join(tmp, "files", "backends/onnxruntime/lib"), { recursive: true });
    await symlink(outside, path.join(tmp, "files", "backends/onnxruntime/lib"));
    await expectRefused(cache.adopt(tmp, key), tmp, /backends\/onnxruntime\/lib is a symlink, the manifest says dir/);
  });

  it("refuses an entry with a listed file missing", async () => {
    const tmp = await arrived();
    await rm(path.join(tmp, "files", "backends/onnxruntime/libtriton_onnxruntime.so"));
    await expectRefused(cache.adopt(tmp, key), tmp, /libtriton_onnxruntime\.so is missing/);
  });

  it("refuses an entry where a listed file is a symlink on disk (e.g. to a file outside the entry)", async () => {
    const outside = path.join(dir, "outside.so");
    await writeFile(outside, "dependency");
    const tmp = await arrived();
    const file = path.join(tmp, "files", "backends/onnxruntime/lib/dep.so.1");
    await rm(file);
    await symlink(outside, file);
    await expectRefused(cache.adopt(tmp, key), tmp, /dep\.so\.1 is a symlink, the manifest says file/);
  });

  describe("refuses an entry that would write outside its component's part of the install tree", () => {
    const cases: Array<[string, (m: Manifest) => void, RegExp]> = [
      [
        "a file path with ../",
        (m) => (m.files[0] = { ...m.files[0]!, path: "backends/onnxruntime/../../bin/tritonserver" }),
        /unsafe path backends\/onnxruntime\/\.\.\/\.\.\/bin\/tritonserver/,
      ],
      ["a file path starting with ../", (m) => (m.files[0] = { ...m.files[0]!, path: "../../etc/passwd" }), /unsafe path \.\.\/\.\.\/etc\/passwd/],
      ["an absolute file path", (m) => (m.files[0] = { ...m.files[0]!, path: "/etc/passwd" }), /unsafe path \/etc\/passwd/],
      [
        "a file in another backend's directory",
        (m) => (m.files[0] = { ...m.files[0]!, path: "backends/python/libtriton_python.so" }),
        /outside the component's part of the install tree/,
      ],
      ["a root that is not its own", (m) => (m.roots = ["backends"]), /a backend may only install backends\/onnxruntime/],
      ["a dir with ../", (m) => m.dirs.push({ path: "backends/onnxruntime/../python", mode: 0o755 }), /unsafe path/],
      [
        "a symlink pointing up and out",
        (m) => (m.symlinks = [{ path: "backends/onnxruntime/lib/dep.so", target: "../../../bin/tritonserver" }]),
        /symlink backends\/onnxruntime\/lib\/dep\.so points outside backends\/onnxruntime/,
      ],
      ["a symlink to an absolute path", (m) => (m.symlinks = [{ path: "backends/onnxruntime/lib/dep.so", target: "/etc/passwd" }]), /points outside/],
      ["a symlink in the path of other files", (m) => m.symlinks.push({ path: "backends/onnxruntime/lib", target: "." }), /symlink in the path of other files/],
      ["a symlink as the root", (m) => (m.symlinks = [{ path: "backends/onnxruntime", target: "../python" }]), /root backends\/onnxruntime is a symlink/],
    ];
    for (const [name, change, message] of cases) {
      it(name, async () => {
        const tmp = await arrived(change);
        await expectRefused(cache.adopt(tmp, key), tmp, message);
      });
    }
  });

  it("refuses an entry when the extra check (the signature) names a problem, and hands it the manifest", async () => {
    const seen: Manifest[] = [];
    const tmp = await arrived();
    await expectRefused(
      cache.adopt(tmp, key, {
        check: (manifest) => {
          seen.push(manifest);
          return signatureProblem(manifest, "fleet-secret");
        },
      }),
      tmp,
      /^the entry is not signed$/,
    );
    expect(seen.map((m) => m.key)).toEqual([key]);
  });

  it("refuses an entry signed with another key, and takes the same entry signed with the right one", async () => {
    const signWith = (secret: string) => (m: Manifest) => {
      const { signature: _old, ...unsigned } = m;
      m.signature = signManifest(unsigned, secret);
    };
    const wrong = await arrived(signWith("another-secret"));
    await expectRefused(cache.adopt(wrong, key, { check: (m) => signatureProblem(m, "fleet-secret") }), wrong, /signature does not match/);
    const right = await arrived(signWith("fleet-secret"));
    expect((await cache.adopt(right, key, { check: (m) => signatureProblem(m, "fleet-secret") })).key).toBe(key);
  });

  it("refuses a temp dir without a readable manifest", async () => {
    const tmp = await arrived();
    await writeFile(path.join(tmp, "manifest.json"), '{"format": 1, "key": "');
    await expectRefused(cache.adopt(tmp, key), tmp, /no readable manifest\.json/);
  });
});

/**
 * Files the transport checked while it wrote them (their sha256 against the manifest) come with
 * their stamps (inode, size, times): adopt and this run's restore read them again only when a
 * stamp no longer holds. An entry that sat in the cache is hashed on restore, as ever.
 */
describe("files the transport checked, with their stamps", () => {
  const DEP = "backends/onnxruntime/lib/dep.so.1";

  /** The stamps of every listed file of an entry dir as they are now: what a transport hands adopt. */
  async function stampsOf(entryDir: string): Promise<Map<string, string>> {
    const manifest = JSON.parse(await readFile(path.join(entryDir, "manifest.json"), "utf8")) as Manifest;
    const stamps = new Map<string, string>();
    for (const file of manifest.files) stamps.set(file.path, fileStamp(await lstat(path.join(entryDir, "files", file.path), { bigint: true })));
    return stamps;
  }

  /** Flips the first byte of a file in place, then sets its times back: only the change time says so. */
  async function flipByteKeepingTimes(file: string): Promise<void> {
    const before = await stat(file);
    const bytes = await readFile(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    await utimes(file, before.atime, before.mtime);
  }

  async function freshInstall(name: string): Promise<string> {
    const install = path.join(dir, name, "install");
    await mkdir(install, { recursive: true });
    return install;
  }

  it("a stamp is trusted in this run, and only in it: what a lying transport vouched for is restored here, and refused by the next run", async () => {
    // The test plays a transport that vouches for bytes that do not match: the stamps are taken after the change.
    const tmp = await arrived();
    await flipByteKeepingTimes(path.join(tmp, "files", DEP));
    await cache.adopt(tmp, key, { verified: await stampsOf(tmp) });
    const here = await freshInstall("here");
    await cache.restore(key, here);
    // neither adopt nor this run's restore read the file again
    expect((await readFile(path.join(here, DEP)))[0]).not.toBe("dependency".charCodeAt(0));
    // another run (another LocalCache on the same dir) has no stamps: it hashes, refuses, writes nothing
    const nextRun = await freshInstall("next-run");
    await expect(new LocalCache(path.join(dir, "cache")).restore(key, nextRun)).rejects.toThrow(/dep\.so\.1 does not match its sha256/);
    expect(await readdir(nextRun)).toEqual([]);
  });

  it("a small file (under 1 MiB) is hashed on restore even with a stamp: a lying transport's small file is refused in this very run", async () => {
    const small = "backends/onnxruntime/libtriton_onnxruntime.so";
    const tmp = await arrived();
    await flipByteKeepingTimes(path.join(tmp, "files", small));
    await cache.adopt(tmp, key, { verified: await stampsOf(tmp) });
    const here = await freshInstall("here");
    await expect(cache.restore(key, here)).rejects.toThrow(/libtriton_onnxruntime\.so does not match its sha256/);
    expect(await readdir(here)).toEqual([]);
  });

  it("adopt hashes a checked file that was changed after it was checked (even with its times set back), and refuses the entry", async () => {
    const tmp = await arrived();
    const stamps = await stampsOf(tmp);
    await flipByteKeepingTimes(path.join(tmp, "files", DEP));
    await expectRefused(cache.adopt(tmp, key, { verified: stamps }), tmp, /dep\.so\.1 does not match its sha256/);
  });

  it("this run's restore hashes a file changed in the cache dir after adopt, and refuses the entry; nothing is written", async () => {
    const tmp = await arrived();
    await cache.adopt(tmp, key, { verified: await stampsOf(tmp) });
    await flipByteKeepingTimes(path.join(cache.entryDir(key), "files", DEP));
    const install = await freshInstall("tampered");
    await expect(cache.restore(key, install)).rejects.toThrow(/dep\.so\.1 does not match its sha256/);
    expect(await readdir(install)).toEqual([]);
    expect(await readdir(path.dirname(install))).toEqual(["install"]);
  });

  it("this run's restore hashes a file replaced after adopt by another one of the same size (a new inode), and refuses the entry", async () => {
    const tmp = await arrived();
    await cache.adopt(tmp, key, { verified: await stampsOf(tmp) });
    const file = path.join(cache.entryDir(key), "files", DEP);
    const swapped = `${file}.new`;
    await writeFile(swapped, Buffer.concat([Buffer.from("DEPENDENCY"), DEP_BYTES.subarray(10)]));
    await rename(swapped, file);
    const install = await freshInstall("replaced");
    await expect(cache.restore(key, install)).rejects.toThrow(/dep\.so\.1 does not match its sha256/);
    expect(await readdir(install)).toEqual([]);
  });

  it("a sound entry with its stamps is adopted and restored byte for byte, modes included (the control)", async () => {
    const tmp = await arrived();
    await cache.adopt(tmp, key, { verified: await stampsOf(tmp) });
    const install = await freshInstall("sound");
    await cache.restore(key, install);
    const manifest = (await cache.get(key))!;
    for (const file of manifest.files) {
      const restored = path.join(install, file.path);
      expect(
        createHash("sha256")
          .update(await readFile(restored))
          .digest("hex"),
        file.path,
      ).toBe(file.sha256);
      expect((await stat(restored)).mode & 0o7777, file.path).toBe(file.mode);
    }
    expect(await readlink(path.join(install, "backends/onnxruntime/lib/dep.so"))).toBe("dep.so.1");
  });
});
