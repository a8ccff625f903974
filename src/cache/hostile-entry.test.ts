import { execFile } from "node:child_process";
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheIntegrityError } from "../errors.js";
import { cacheKey, type KeyInputs } from "./key.js";
import type { Manifest } from "./manifest.js";
import { signatureProblem, signManifest } from "./signing.js";
import { specialNodes } from "../../test/helpers/special-nodes.js";
import { LocalCache } from "./store.js";

/**
 * Hostile entries, crafted by hand, against both ways an entry reaches a restore: adopt (it came
 * from a registry) and restore (a cache dir shared over NFS). Each case starts from a sound entry
 * made by a real store(), changes one thing as an attacker would (mknod, mkfifo, chmod u+s, a link
 * out of the tree, a manifest that lies), and expects a refusal that changes nothing: no entry,
 * nothing left in tmp/, nothing written into the install tree, the host's files untouched.
 */

const run = promisify(execFile);
const SECRET = "fleet-secret";

let dir: string;
let source: LocalCache;
let cache: LocalCache;
let host: string;

const onnxInputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "onnxruntime" },
  section: "5".repeat(64),
  sources: { repo: { url: "https://example.invalid/onnxruntime_backend.git", ref: "r24.05", commit: "c".repeat(40) } },
  buildbase: { dockerfile: "d".repeat(64), baseImage: "base:24.05", baseImageId: "sha256:".padEnd(71, "e") },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};
const pythonInputs: KeyInputs = { ...onnxInputs, component: { kind: "backend", name: "python" }, section: "6".repeat(64) };
const ONNX_KEY = cacheKey(onnxInputs);
const PYTHON_KEY = cacheKey(pythonInputs);
const ONNX = { name: "onnxruntime", kind: "backend" };
const PYTHON = { name: "python", kind: "backend" };
const ROOT = "backends/onnxruntime";

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-hostile-"));
  const install = path.join(dir, "install");
  await mkdir(path.join(install, ROOT, "lib"), { recursive: true });
  await writeFile(path.join(install, ROOT, "libtriton_onnxruntime.so"), "library bytes");
  await chmod(path.join(install, ROOT, "libtriton_onnxruntime.so"), 0o755);
  await writeFile(path.join(install, ROOT, "lib", "dep.so.1"), "dependency");
  await symlink("dep.so.1", path.join(install, ROOT, "lib", "dep.so"));
  source = new LocalCache(path.join(dir, "source-cache"));
  expect(await source.store({ key: ONNX_KEY, inputs: onnxInputs, component: { ...ONNX, tag: "r24.05" }, installRoot: install })).toBe("stored");
  cache = new LocalCache(path.join(dir, "cache"));
  // A directory of "the host" that an entry must never read from or write to.
  host = path.join(dir, "host");
  await mkdir(host, { recursive: true });
  await writeFile(path.join(host, "secret"), "host secret\n");
  await mkdir(path.join(host, "empty"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ls = (p: string) => readdir(p).catch(() => [] as string[]);

interface Craft {
  /** The crafted entry: manifest.json and files/, as an attacker would lay them out. */
  dir: string;
  manifest: Manifest;
  files: string;
}

type Change = (entry: Craft) => Promise<void> | void;

interface Case {
  name: string;
  change: Change;
  /** The key it sits under (default onnxruntime's) and the component the caller expects there. */
  key?: string;
  component?: { name: string; kind: string };
  message: RegExp;
  /** For a case whose manifest is not written from `manifest` (e.g. manifest.json is a link or a FIFO). */
  keepsOwnManifest?: boolean;
}

/** A copy of the sound entry at `at`, changed by `change`; the manifest signed with SECRET when `sign`. */
async function craft(at: string, change: Change, sign: boolean, keepsOwnManifest = false): Promise<void> {
  await cp(path.join(source.entryDir(ONNX_KEY), "files"), path.join(at, "files"), { recursive: true, verbatimSymlinks: true });
  const manifest = JSON.parse(await readFile(path.join(source.entryDir(ONNX_KEY), "manifest.json"), "utf8")) as Manifest;
  await change({ dir: at, manifest, files: path.join(at, "files") });
  if (keepsOwnManifest) return;
  const { signature: _old, ...unsigned } = manifest;
  const written = sign ? { ...unsigned, signature: signManifest(unsigned as Manifest, SECRET) } : unsigned;
  await writeFile(path.join(at, "manifest.json"), JSON.stringify(written, null, 1));
}

/** Two more links in the onnxruntime root on disk and in the manifest. */
async function addLinks(entry: Craft, links: Array<[string, string]>): Promise<void> {
  entry.manifest.symlinks.push(...links.map(([p, target]) => ({ path: p, target })));
  for (const [p, target] of links) await symlink(target, path.join(entry.files, p));
}

const CASES: Case[] = [
  {
    name: "a character device (mknod) in files/, not in the manifest",
    change: async (e) => {
      await run("mknod", [path.join(e.files, ROOT, "null"), "c", "1", "3"]);
    },
    message: /backends\/onnxruntime\/null is a character device/,
  },
  {
    name: "a block device listed in the manifest as a file",
    change: async (e) => {
      await run("mknod", [path.join(e.files, ROOT, "disk"), "b", "7", "0"]);
      e.manifest.files.push({ path: `${ROOT}/disk`, size: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", mode: 0o644 });
    },
    message: /backends\/onnxruntime\/disk is a block device/,
  },
  {
    name: "a FIFO (mkfifo) in files/",
    change: async (e) => {
      await run("mkfifo", [path.join(e.files, ROOT, "lib", "pipe")]);
    },
    message: /backends\/onnxruntime\/lib\/pipe is a FIFO/,
  },
  {
    name: "a setuid file on disk (chmod u+s) whose manifest mode is plain 0o755",
    change: async (e) => {
      await chmod(path.join(e.files, ROOT, "libtriton_onnxruntime.so"), 0o4755);
    },
    message: /libtriton_onnxruntime\.so has the setuid bit/,
  },
  {
    name: "a setgid directory",
    change: async (e) => {
      await chmod(path.join(e.files, ROOT, "lib"), 0o2755);
    },
    message: /backends\/onnxruntime\/lib has the setgid bit/,
  },
  {
    name: "a setuid mode in the manifest (and on disk)",
    change: async (e) => {
      await chmod(path.join(e.files, ROOT, "libtriton_onnxruntime.so"), 0o4755);
      e.manifest.files = e.manifest.files.map((f) => (f.path.endsWith("libtriton_onnxruntime.so") ? { ...f, mode: 0o4755 } : f));
    },
    message: /libtriton_onnxruntime\.so has mode 0o4755: only permission bits/,
  },
  {
    name: "a mode of -1 in the manifest",
    change: (e) => {
      e.manifest.files = e.manifest.files.map((f) => (f.path.endsWith("dep.so.1") ? { ...f, mode: -1 } : f));
    },
    message: /dep\.so\.1 has mode -1: only permission bits/,
  },
  {
    name: "a root directory its owner may not write (0o555): a restore by a non-root user could not move it into place",
    change: (e) => {
      e.manifest.dirs = e.manifest.dirs.map((d) => (d.path === ROOT ? { ...d, mode: 0o555 } : d));
    },
    message: /backends\/onnxruntime has mode 0o555: a directory must be readable, writable and searchable by its owner \(u\+rwx\)/,
  },
  {
    name: "a subdirectory of mode 0o000: a restored tree nobody but root could read or remove",
    change: (e) => {
      e.manifest.dirs = e.manifest.dirs.map((d) => (d.path === `${ROOT}/lib` ? { ...d, mode: 0 } : d));
    },
    message: /backends\/onnxruntime\/lib has mode 0o000: a directory must be readable, writable and searchable by its owner/,
  },
  {
    name: "a file its owner may not read (0o311)",
    change: (e) => {
      e.manifest.files = e.manifest.files.map((f) => (f.path.endsWith("dep.so.1") ? { ...f, mode: 0o311 } : f));
    },
    message: /dep\.so\.1 has mode 0o311: a file must be readable by its owner \(u\+r\)/,
  },
  {
    name: "an entry whose root holds nothing (a hit that would put nothing into the image)",
    change: async (e) => {
      await rm(e.files, { recursive: true });
      await mkdir(e.files);
      Object.assign(e.manifest, { files: [], dirs: [], symlinks: [], totalBytes: 0 });
    },
    message: /root backends\/onnxruntime is not listed as a directory/,
  },
  {
    name: "files/ is a symlink to a host directory holding exactly what the manifest lists",
    change: async (e) => {
      const hostCopy = path.join(host, "entry-files");
      await cp(e.files, hostCopy, { recursive: true, verbatimSymlinks: true });
      await rm(e.files, { recursive: true });
      await symlink(hostCopy, e.files);
    },
    message: /files is a symlink, not a directory/,
  },
  {
    name: "manifest.json is a symlink to a valid manifest elsewhere",
    change: async (e) => {
      const { signature: _old, ...unsigned } = e.manifest;
      await writeFile(path.join(host, "manifest.json"), JSON.stringify(unsigned));
      await symlink(path.join(host, "manifest.json"), path.join(e.dir, "manifest.json"));
    },
    keepsOwnManifest: true,
    message: /no readable manifest/,
  },
  {
    name: "manifest.json is a FIFO (a read would hang)",
    change: async (e) => {
      await run("mkfifo", [path.join(e.dir, "manifest.json")]);
    },
    keepsOwnManifest: true,
    message: /no readable manifest/,
  },
  {
    name: "a device node beside manifest.json",
    change: async (e) => {
      await run("mknod", [path.join(e.dir, "tty"), "c", "5", "0"]);
    },
    message: /tty beside manifest\.json is not part of an entry/,
  },
  {
    name: "an escaping link chain: a/b/c/l -> ../../.. and m -> a/b/c/l/../../../../tmp/x",
    change: async (e) => {
      for (const d of ["a", "a/b", "a/b/c"]) {
        await mkdir(path.join(e.files, ROOT, d));
        e.manifest.dirs.push({ path: `${ROOT}/${d}`, mode: 0o755 });
      }
      await addLinks(e, [
        [`${ROOT}/a/b/c/l`, "../../.."],
        [`${ROOT}/m`, "a/b/c/l/../../../../tmp/x"],
      ]);
    },
    message: /symlink backends\/onnxruntime\/m points outside backends\/onnxruntime/,
  },
  {
    name: "a link into another component's directory, then back by text",
    change: (e) => addLinks(e, [[`${ROOT}/x`, "../python/../onnxruntime/lib"]]),
    message: /symlink backends\/onnxruntime\/x points outside/,
  },
  {
    name: "a loop of links",
    change: (e) =>
      addLinks(e, [
        [`${ROOT}/p`, "q"],
        [`${ROOT}/q`, "p"],
      ]),
    message: /symlink backends\/onnxruntime\/p is a loop of links/,
  },
  {
    name: "a link to a host directory, with a link and a directory listed beneath it (made through it, they would land in the host)",
    change: async (e) => {
      e.manifest.dirs.push({ path: `${ROOT}/x/sub`, mode: 0o755 });
      await addLinks(e, [[`${ROOT}/x`, path.join(host, "empty")]]);
      e.manifest.symlinks.push({ path: `${ROOT}/x/y`, target: "secret" });
    },
    message: /backends\/onnxruntime\/x is a symlink in the path of other files/,
  },
  {
    name: "one path listed as both a directory and a symlink",
    change: async (e) => {
      e.manifest.dirs.push({ path: `${ROOT}/both`, mode: 0o755 });
      await addLinks(e, [[`${ROOT}/both`, "lib"]]);
    },
    message: /backends\/onnxruntime\/both is listed both as a dir and as a symlink/,
  },
  {
    name: "an entry of onnxruntime under python's key (its inputs are python's, so they hash to the key)",
    key: PYTHON_KEY,
    component: PYTHON,
    change: (e) => {
      e.manifest.key = PYTHON_KEY;
      e.manifest.inputs = pythonInputs;
    },
    message: /it holds backend 'onnxruntime', .*python/,
  },
];

/** The entry as adopt receives it: in the cache's tmp/, as a transport leaves it. */
async function arrived(testCase: Case, sign: boolean): Promise<string> {
  const tmp = await cache.newTempDir(testCase.key ?? ONNX_KEY);
  await craft(tmp, testCase.change, sign, testCase.keepsOwnManifest);
  return tmp;
}

/** The entry as restore finds it: committed in a (shared) cache dir, as the attacker wrote it there. */
async function planted(testCase: Case, sign: boolean): Promise<string> {
  const key = testCase.key ?? ONNX_KEY;
  const entry = cache.entryDir(key);
  await mkdir(entry, { recursive: true });
  await craft(entry, testCase.change, sign, testCase.keepsOwnManifest);
  return key;
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the entry should have been refused").toBeInstanceOf(CacheIntegrityError);
  return error as Error;
}

async function hostUnchanged(): Promise<void> {
  expect(await readFile(path.join(host, "secret"), "utf8")).toBe("host secret\n");
  expect(await readdir(path.join(host, "empty"))).toEqual([]);
}

for (const sign of [false, true]) {
  describe(`hostile entries ${sign ? "signed with the fleet key (the checks do not rest on the signature)" : "unsigned"}`, () => {
    describe("adopt (from a registry) refuses each, and nothing is left", () => {
      for (const testCase of CASES) {
        it(testCase.name, async () => {
          const key = testCase.key ?? ONNX_KEY;
          const tmp = await arrived(testCase, sign);
          const check = sign ? { check: (m: Manifest) => signatureProblem(m, SECRET) } : {};
          const error = await refusal(cache.adopt(tmp, key, { component: testCase.component ?? ONNX, ...check }));
          // A case that leaves manifest.json unreadable cannot reach the signature check at all.
          if (!testCase.keepsOwnManifest) expect(error.message).toMatch(testCase.message);
          expect(await ls(path.join(cache.root, "entries"))).toEqual([]);
          expect(await cache.get(key)).toBeUndefined();
          expect(await ls(path.join(cache.root, "tmp"))).toEqual([]);
          expect(await specialNodes(cache.root)).toEqual([]);
          await hostUnchanged();
        });
      }
    });

    describe("restore (a shared cache dir) refuses each; verify evicts it; nothing is written", () => {
      for (const testCase of CASES) {
        it(testCase.name, async () => {
          const key = await planted(testCase, sign);
          const install = path.join(dir, "restore", "install");
          await mkdir(install, { recursive: true });
          const error = await refusal(cache.restore(key, install, { component: testCase.component ?? ONNX }));
          expect(error.message).toMatch(testCase.keepsOwnManifest ? /has no readable manifest/ : testCase.message);
          expect(await ls(install)).toEqual([]);
          expect(await ls(path.dirname(install))).toEqual(["install"]);
          const report = await cache.verify();
          expect(report.evicted).toHaveLength(1);
          expect(await lstat(cache.entryDir(key)).catch(() => undefined)).toBeUndefined();
          expect(await specialNodes(cache.root)).toEqual([]);
          await hostUnchanged();
        });
      }
    });
  });
}

describe("the sound entry (the control for the refusals above)", () => {
  it("is adopted and restored, signed and unsigned", async () => {
    for (const sign of [false, true]) {
      const tmp = await cache.newTempDir(ONNX_KEY);
      await craft(tmp, () => undefined, sign);
      const check = sign ? { check: (m: Manifest) => signatureProblem(m, SECRET) } : {};
      expect((await cache.adopt(tmp, ONNX_KEY, { component: ONNX, ...check })).key).toBe(ONNX_KEY);
      const install = path.join(dir, `restore-${sign}`, "install");
      await mkdir(install, { recursive: true });
      await cache.restore(ONNX_KEY, install, { component: ONNX });
      expect(await readFile(path.join(install, ROOT, "lib", "dep.so"), "utf8")).toBe("dependency");
      await cache.evict(ONNX_KEY);
    }
  });

  it("links that pass through the directories above the root and come back in are fine", async () => {
    const key = await planted(
      {
        name: "inward links",
        change: (e) =>
          addLinks(e, [
            [`${ROOT}/up-and-back`, "../onnxruntime/lib/dep.so"],
            [`${ROOT}/chain`, "lib/dep.so"],
            [`${ROOT}/dangling`, "lib/not-there"],
          ]),
        message: /never/,
      },
      false,
    );
    const install = path.join(dir, "restore", "install");
    await mkdir(install, { recursive: true });
    await cache.restore(key, install, { component: ONNX });
    expect(await readFile(path.join(install, ROOT, "up-and-back"), "utf8")).toBe("dependency");
    expect(await readFile(path.join(install, ROOT, "chain"), "utf8")).toBe("dependency");
  });
});

describe("what a store takes from the install tree", () => {
  it("files keep only their permission bits, and device nodes and FIFOs are left out", async () => {
    const install = path.join(dir, "odd-install");
    await mkdir(path.join(install, "backends", "python"), { recursive: true });
    await writeFile(path.join(install, "backends", "python", "helper"), "#!/bin/sh\n");
    await chmod(path.join(install, "backends", "python", "helper"), 0o4755);
    await run("mkfifo", [path.join(install, "backends", "python", "pipe")]);
    await run("mknod", [path.join(install, "backends", "python", "null"), "c", "1", "3"]);
    // the control for every specialNodes(...) == [] in this file
    expect((await specialNodes(install)).map((p) => path.basename(p)).sort()).toEqual(["helper", "null", "pipe"]);
    expect(await cache.store({ key: PYTHON_KEY, inputs: pythonInputs, component: PYTHON, installRoot: install })).toBe("stored");
    const manifest = await cache.get(PYTHON_KEY);
    expect(manifest?.files.map((f) => [f.path, f.mode])).toEqual([["backends/python/helper", 0o755]]);
    expect(await specialNodes(cache.root)).toEqual([]);
    expect(await cache.check(PYTHON_KEY)).toBeUndefined();
    const restored = path.join(dir, "restore", "install");
    await mkdir(restored, { recursive: true });
    await cache.restore(PYTHON_KEY, restored, { component: PYTHON });
    expect((await lstat(path.join(restored, "backends", "python", "helper"))).mode & 0o7777).toBe(0o755);
    expect(await ls(path.join(restored, "backends", "python"))).toEqual(["helper"]);
  });
});
