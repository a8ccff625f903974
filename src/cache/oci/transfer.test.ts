import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../../../test/helpers/cli.js";
import { pushCraftedEntry } from "../../../test/helpers/crafted-entry.js";
import { startTestRegistry, type TestRegistry } from "../../../test/helpers/registry.js";
import { CacheIntegrityError } from "../../errors.js";
import { RegistryClient } from "../../registry/client.js";
import { fileStamp } from "../file-stamp.js";
import { cacheKey, type KeyInputs } from "../key.js";
import type { Manifest } from "../manifest.js";
import { LocalCache } from "../store.js";
import { ANNOTATION, MEDIA_TYPES } from "./format.js";
import { fetchEntry, manifestBytes, pushEntry } from "./transfer.js";

// Entries pushed to and fetched from a real registry (docker-registry on loopback), and entries
// crafted by hand with real tools (mknod, mkfifo, chmod u+s, ln, GNU tar) that must be refused.

let temp: string;
let registry: TestRegistry;
let repo: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-oci-transfer-");
  registry = await startTestRegistry(path.join(temp, "registry"));
});
afterAll(async () => {
  await registry?.close();
  await removeTempDir(temp);
});

function client(): RegistryClient {
  return new RegistryClient(`${registry.address}/${repo}`, {
    env: { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: path.join(temp, "no-certs") },
    insecure: { names: [], cidrs: ["127.0.0.0/8"] },
  });
}

let counter = 0;
beforeEach(() => {
  repo = `transfer-${++counter}`;
});

function inputsFor(name: string): KeyInputs {
  return {
    format: 1,
    component: { kind: "backend", name },
    section: createHash("sha256").update(name).digest("hex"),
    sources: {},
    buildbase: { dockerfile: "d".repeat(64), baseImage: "base:24.05", baseImageId: "sha256:".padEnd(71, "e") },
    platform: { os: "linux", arch: "x86_64" },
    settings: {},
  };
}

/** A backend's install tree: libraries (one incompressible), text, a symlink, nested dirs, modes. */
async function storedEntry(name: string, big = 0): Promise<{ cache: LocalCache; key: string; manifest: Manifest }> {
  const install = path.join(temp, `install-${name}-${counter}`);
  const root = path.join(install, "backends", name);
  await mkdir(path.join(root, "lib", "python"), { recursive: true });
  await writeFile(path.join(root, `libtriton_${name}.so`), randomBytes(2 * 2 ** 20), { mode: 0o755 });
  await writeFile(path.join(root, "lib", "python", "model.py"), "import numpy\n".repeat(200_000));
  await writeFile(path.join(root, "lib", "secret.conf"), "x=1\n", { mode: 0o600 });
  await writeFile(path.join(root, "lib", "empty"), "");
  await symlink(`libtriton_${name}.so`, path.join(root, `libtriton_${name}.so.1`));
  for (let i = 0; i < big; i++) await writeFile(path.join(root, `big${i}.bin`), Buffer.alloc(48 * 2 ** 20, `${i} some text that compresses `));
  const cache = new LocalCache(path.join(temp, `cache-${name}-${counter}`));
  const inputs = inputsFor(name);
  const key = cacheKey(inputs);
  expect(await cache.store({ key, inputs, component: { name, kind: "backend" }, installRoot: install })).toBe("stored");
  return { cache, key, manifest: (await cache.get(key))! };
}

/** Every path under dir with its type, permission bits, and sha256 or link target. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const p = path.join(rel, name);
      const info = await lstat(path.join(dir, p));
      if (info.isSymbolicLink()) out[p] = `link ${await readlink(path.join(dir, p))}`;
      else if (info.isDirectory()) {
        out[p] = "dir";
        await walk(p);
      } else if (info.isFile())
        out[p] = `file ${(info.mode & 0o7777).toString(8)} ${createHash("sha256")
          .update(await readFile(path.join(dir, p)))
          .digest("hex")}`;
      else out[p] = `special ${info.mode.toString(8)}`;
    }
  }
  await walk("");
  return out;
}

async function fetchInto(name: string, check: (m: Manifest) => void = () => undefined) {
  const dir = path.join(temp, `fetched-${name}-${counter}`);
  await mkdir(dir, { recursive: true });
  const registryClient = client();
  try {
    return { dir, result: await fetchEntry(registryClient, name, dir, check) };
  } finally {
    registryClient.close();
  }
}

describe("an entry pushed and fetched over the distribution API", () => {
  it("arrives as the same files (types, modes, hashes, links), each checked while written", async () => {
    const { cache, key, manifest } = await storedEntry("onnxruntime");
    const registryClient = client();
    await pushEntry(registryClient, `onnxruntime-${key}`, cache.entryDir(key), manifest);
    const stored = JSON.parse((await registryClient.manifest(`onnxruntime-${key}`, [MEDIA_TYPES.manifest]))!.bytes.toString());
    registryClient.close();
    // a small entry is one layer, and an ordinary OCI image with the entry's labels
    expect(stored.layers).toHaveLength(1);
    expect(stored.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(stored.annotations).toMatchObject({
      [ANNOTATION.format]: "2",
      [ANNOTATION.key]: key,
      [ANNOTATION.component]: "onnxruntime",
      [ANNOTATION.signed]: "no",
    });

    const { dir, result } = await fetchInto(`onnxruntime-${key}`);
    expect(result).toMatchObject({ outcome: "fetched", format: "2", manifest: { key } });
    // every file was checked while written, and carries the stamp it has on disk
    if (result.outcome !== "fetched") throw new Error(`not fetched: ${result.outcome}`);
    expect([...result.verified.keys()].sort()).toEqual(manifest.files.map((f) => f.path).sort());
    for (const file of manifest.files) {
      expect(result.verified.get(file.path)).toBe(fileStamp(await lstat(path.join(dir, "files", file.path), { bigint: true })));
    }
    expect(await tree(path.join(dir, "files"))).toEqual(await tree(path.join(cache.entryDir(key), "files")));
    // manifest.json arrives as the local cache wrote it
    expect(await readFile(path.join(dir, "manifest.json"), "utf8")).toBe(await readFile(path.join(cache.entryDir(key), "manifest.json"), "utf8"));
    expect(manifestBytes(manifest).toString()).toBe(await readFile(path.join(cache.entryDir(key), "manifest.json"), "utf8"));
  });

  it("a large entry is several layers, moved in parallel, and arrives whole", async () => {
    const { cache, key, manifest } = await storedEntry("tensorrtllm", 3);
    const registryClient = client();
    await pushEntry(registryClient, `tensorrtllm-${key}`, cache.entryDir(key), manifest);
    const stored = JSON.parse((await registryClient.manifest(`tensorrtllm-${key}`, [MEDIA_TYPES.manifest]))!.bytes.toString());
    registryClient.close();
    expect(stored.layers.length).toBeGreaterThan(1);
    const { dir, result } = await fetchInto(`tensorrtllm-${key}`);
    expect(result.outcome).toBe("fetched");
    expect(await tree(path.join(dir, "files"))).toEqual(await tree(path.join(cache.entryDir(key), "files")));
  });

  it("a tag the registry does not have is a miss", async () => {
    expect((await fetchInto("python-absent")).result).toEqual({ outcome: "missing" });
  });

  it("the manifest is checked before any file is written: a refusal leaves the directory empty", async () => {
    const { cache, key, manifest } = await storedEntry("python");
    const registryClient = client();
    await pushEntry(registryClient, `python-${key}`, cache.entryDir(key), manifest);
    registryClient.close();
    const dir = path.join(temp, "refused");
    await mkdir(dir);
    const refusing = client();
    await expect(
      fetchEntry(refusing, `python-${key}`, dir, () => {
        throw new CacheIntegrityError("the entry is not signed");
      }),
    ).rejects.toThrow("the entry is not signed");
    refusing.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it("a local file changed since it was cached is not pushed, and the tag is not written", async () => {
    const { cache, key, manifest } = await storedEntry("dali");
    await writeFile(path.join(cache.entryDir(key), "files", "backends", "dali", "lib", "secret.conf"), "x=2\n");
    const registryClient = client();
    await expect(pushEntry(registryClient, `dali-${key}`, cache.entryDir(key), manifest)).rejects.toThrow(
      new CacheIntegrityError("backends/dali/lib/secret.conf in the local entry does not match its sha256; the entry was not pushed"),
    );
    expect(await registryClient.tags()).toEqual([]);
    registryClient.close();
  });
});

describe("entries crafted by hand are refused while extracting, and nothing but regular files, dirs and links is made", () => {
  const BACKEND = "backends/evil";
  let work: string;
  let outside: string;

  beforeEach(async () => {
    work = path.join(temp, `craft-${counter}`);
    outside = path.join(temp, `outside-${counter}`);
    await mkdir(path.join(work, "files", BACKEND), { recursive: true });
    await mkdir(outside);
  });

  /** A manifest listing `files` (path under files/ -> content), as an attacker would write it. */
  async function writeManifest(files: Record<string, string>, extra: Partial<Manifest> = {}): Promise<void> {
    const manifest: Manifest = {
      format: 1,
      key: "a".repeat(64),
      component: { name: "evil", kind: "backend" },
      inputs: inputsFor("evil"),
      files: Object.entries(files).map(([p, content]) => ({
        path: p,
        size: content.length,
        sha256: createHash("sha256").update(content).digest("hex"),
        mode: 0o755,
      })),
      symlinks: [],
      dirs: [{ path: BACKEND, mode: 0o755 }],
      roots: [BACKEND],
      totalBytes: 0,
      createdAt: new Date(0).toISOString(),
      ...extra,
    };
    await writeFile(path.join(work, "manifest.json"), JSON.stringify(manifest));
  }

  async function refused(tag: string, options: Parameters<typeof pushCraftedEntry>[4] = {}): Promise<string> {
    await pushCraftedEntry(registry, repo, tag, work, options);
    const { dir, result } = await fetchInto(tag).then(
      () => ({ dir: "", result: undefined }),
      async (error: unknown) => ({ dir: path.join(temp, `fetched-${tag}-${counter}`), result: error }),
    );
    // Nothing outside; nothing but regular files without special bits, dirs and links inside.
    expect(await readdir(outside)).toEqual([]);
    expect(result).toBeInstanceOf(CacheIntegrityError);
    const made = await tree(dir);
    expect(Object.entries(made).filter(([, what]) => what.startsWith("special") || /^file [1-7][0-7]{3} /.test(what))).toEqual([]);
    return (result as Error).message;
  }

  it("a device node made with mknod", async () => {
    await execa("mknod", [path.join(work, "files", BACKEND, "null"), "c", "1", "3"]);
    await writeManifest({ [`${BACKEND}/null`]: "" });
    expect(await refused("device")).toBe(`${BACKEND}/null is a character device (tar type '3'): an entry holds only regular files, directories and symlinks`);
  });

  it("a FIFO made with mkfifo", async () => {
    await execa("mkfifo", [path.join(work, "files", BACKEND, "pipe")]);
    await writeManifest({ [`${BACKEND}/pipe`]: "" });
    expect(await refused("fifo")).toContain(`${BACKEND}/pipe is a FIFO`);
  });

  it("a setuid-root file made with chmod u+s, listed with an ordinary mode", async () => {
    await writeFile(path.join(work, "files", BACKEND, "tool"), "#!/bin/sh\n");
    await execa("chmod", ["u+s", path.join(work, "files", BACKEND, "tool")]);
    await writeManifest({ [`${BACKEND}/tool`]: "#!/bin/sh\n" });
    expect(await refused("setuid")).toBe(`${BACKEND}/tool has the setuid bit (mode 0o4644)`);
  });

  it("a hard link made with ln", async () => {
    await writeFile(path.join(work, "files", BACKEND, "a"), "a");
    await execa("ln", [path.join(work, "files", BACKEND, "a"), path.join(work, "files", BACKEND, "b")]);
    await writeManifest({ [`${BACKEND}/a`]: "a", [`${BACKEND}/b`]: "a" });
    expect(await refused("hardlink")).toContain("is a hard link");
  });

  it("a symlink out of the tree, then a file written through it (listed in the manifest)", async () => {
    const first = path.join(temp, `stage1-${counter}`);
    const second = path.join(temp, `stage2-${counter}`);
    await mkdir(path.join(first, "files", BACKEND), { recursive: true });
    await mkdir(path.join(second, "files", BACKEND, "lnk"), { recursive: true });
    await symlink(outside, path.join(first, "files", BACKEND, "lnk"));
    await writeFile(path.join(second, "files", BACKEND, "lnk", "evil"), "owned");
    await writeManifest({ [`${BACKEND}/lnk/evil`]: "owned" }, { symlinks: [{ path: `${BACKEND}/lnk`, target: outside }] });
    const tarFile = path.join(temp, `through-${counter}.tar`);
    await execa("tar", ["-c", "-f", tarFile, "-C", work, "manifest.json"]);
    await execa("tar", ["-r", "-f", tarFile, "-C", first, `files/${BACKEND}/lnk`]);
    await execa("tar", ["-r", "-f", tarFile, "-C", second, `files/${BACKEND}/lnk/evil`]);
    expect(await refused("through-link", { tar: await readFile(tarFile) })).toMatch(
      /lnk is a symlink in the path of other files|is a dir, the manifest says symlink/,
    );
  });

  // A reviewer's find: a member whose parent is an earlier symlink was made through it, in the
  // host's directory, before the entry was checked. Every order, kind and format is refused, and
  // nothing appears where the link points.
  describe("a symlink out of the tree, then a member beneath it", () => {
    const below = {
      file: async (at: string) => writeFile(at, "owned"),
      dir: async (at: string) => mkdir(at),
      symlink: async (at: string) => symlink("target", at),
    };
    for (const format of ["1", "2"] as const) {
      for (const listed of [true, false]) {
        for (const [kind, make] of Object.entries(below)) {
          for (const nested of [false, true]) {
            const name = nested ? "x/sub/y" : "x/y";
            it(`format ${format}, the link ${listed ? "listed" : "not listed"} in the manifest, ${name} a ${kind}`, async () => {
              const first = path.join(temp, `link-${counter}`);
              const second = path.join(temp, `beneath-${counter}`);
              await mkdir(path.join(first, "files", BACKEND, "d"), { recursive: true });
              await symlink(outside, path.join(first, "files", BACKEND, "x"));
              await mkdir(path.dirname(path.join(second, "files", BACKEND, name)), { recursive: true });
              await make(path.join(second, "files", BACKEND, name));
              const y = `${BACKEND}/${name}`;
              await writeManifest(kind === "file" ? { [y]: "owned" } : {}, {
                dirs: [{ path: BACKEND, mode: 0o755 }, { path: `${BACKEND}/d`, mode: 0o755 }, ...(kind === "dir" ? [{ path: y, mode: 0o755 }] : [])],
                symlinks: [...(listed ? [{ path: `${BACKEND}/x`, target: outside }] : []), ...(kind === "symlink" ? [{ path: y, target: "target" }] : [])],
              });
              const tarFile = path.join(temp, `beneath-${counter}.tar`);
              await execa("tar", ["-c", "-f", tarFile, "-C", work, "manifest.json"]);
              await execa("tar", ["-r", "-f", tarFile, "-C", first, `files/${BACKEND}/d`, `files/${BACKEND}/x`]);
              await execa("tar", ["-r", "-f", tarFile, "-C", second, `files/${y}`]);
              const message = await refused(`beneath-${format}`, { format, tar: await readFile(tarFile) });
              expect(message).toBe(
                format === "2" && !listed ? `${BACKEND}/x is not in the entry's manifest` : `${BACKEND}/x is a symlink in the path of other files`,
              );
              expect(await readdir(outside)).toEqual([]);
            });
          }
        }
      }
    }
  });

  it("a path that climbs out of files/ with ..", async () => {
    await writeFile(path.join(work, "files", BACKEND, "x"), "x");
    await writeManifest({ [`${BACKEND}/x`]: "x" });
    const message = await refused("dotdot", { tarArgs: ["--transform", `s,^files/${BACKEND}/x$,files/../../escaped,`] });
    expect(message).toBe("a layer holds 'files/../../escaped', outside files/");
  });

  it("an absolute path", async () => {
    await writeFile(path.join(work, "files", BACKEND, "x"), "x");
    await writeManifest({ [`${BACKEND}/x`]: "x" });
    const message = await refused("absolute", { tarArgs: ["-P", "--transform", `s,^files/${BACKEND}/x$,${outside}/abs,`] });
    expect(message).toBe(`a layer holds '${outside}/abs', outside files/`);
  });

  it("a file whose bytes differ from the manifest's sha256", async () => {
    await writeFile(path.join(work, "files", BACKEND, "lib.so"), "malicious replacement");
    await writeManifest({ [`${BACKEND}/lib.so`]: "genuine library bytes" });
    // same size, other bytes
    await writeFile(path.join(work, "files", BACKEND, "lib.so"), "malicious replacemen!");
    expect(await refused("content")).toBe(`${BACKEND}/lib.so does not match its sha256`);
  });

  it("a file the manifest does not list, and a listed file that is not there", async () => {
    await writeFile(path.join(work, "files", BACKEND, "extra"), "x");
    await writeManifest({});
    expect(await refused("unlisted")).toBe(`${BACKEND}/extra is not in the entry's manifest`);
    await execa("rm", [path.join(work, "files", BACKEND, "extra")]);
    await writeManifest({ [`${BACKEND}/listed`]: "x" });
    expect(await refused("missing-file")).toBe(`${BACKEND}/listed is in the manifest but not in any layer`);
  });

  it("manifest.json not first in the first layer", async () => {
    await writeManifest({});
    expect(await refused("order", { members: ["files", "manifest.json"] })).toBe("the first layer does not start with manifest.json");
  });

  it("a layer that is not a tar archive", async () => {
    await writeManifest({});
    expect(await refused("not-gzip", { tar: Buffer.from("this is not a tar archive at all") })).toMatch(/not a valid tar archive|first layer does not start/);
  });
});
