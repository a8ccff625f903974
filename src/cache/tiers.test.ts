import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CacheIntegrityError } from "../errors.js";
import { entryTag } from "./entry-tag.js";
import { cacheKey, type KeyInputs } from "./key.js";
import type { Manifest } from "./manifest.js";
import type { EntrySink, FetchOutcome, HasOutcome, OutgoingEntry, PushOutcome, RemoteCache } from "./remote.js";
import { signatureProblem } from "./signing.js";
import { LocalCache } from "./store.js";
import { CacheTiers, type RestoreStep } from "./tiers.js";
import type { CacheComponent } from "./validate.js";

/**
 * The run's use of the two caches: heal a bad entry, replace a rejected remote one. The remote
 * cache is an in-memory RemoteCache (the interface is all the run knows), the local cache real.
 */

const inputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "onnxruntime" },
  section: "5".repeat(64),
  sources: {},
  buildbase: { dockerfile: "d".repeat(64), baseImage: "base:24.05", baseImageId: "sha256:".padEnd(71, "e") },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};
const KEY = cacheKey(inputs);
const ONNX = { name: "onnxruntime", kind: "backend" };

/** A registry in memory: tag -> a directory holding manifest.json and files/, as a transport would carry it. */
class MemoryRemote implements RemoteCache {
  readonly repository = "memory/triton-cache";
  readonly mode = "readwrite" as const;
  readonly entries = new Map<string, string>();
  readonly pushes: Array<{ tag: string; replace: boolean }> = [];
  constructor(private readonly dir: string) {}

  reference(component: string, key: string): string {
    return `${this.repository}:${entryTag(component, key)}`;
  }
  async has(component: CacheComponent, key: string): Promise<HasOutcome> {
    return this.entries.has(entryTag(component.name, key)) ? { status: "present" } : { status: "absent" };
  }
  async fetch(component: CacheComponent, key: string, into: EntrySink): Promise<FetchOutcome> {
    const stored = this.entries.get(entryTag(component.name, key));
    if (!stored) return { status: "miss" };
    const tmp = await into.tempDir();
    await cp(stored, tmp, { recursive: true, verbatimSymlinks: true });
    try {
      return { status: "hit", manifest: await into.adopt(tmp) };
    } catch (error) {
      if (error instanceof CacheIntegrityError) return { status: "rejected", reason: error.message };
      throw error;
    }
  }
  async push(component: CacheComponent, key: string, entry: OutgoingEntry, options: { replace: boolean }): Promise<PushOutcome> {
    const tag = entryTag(component.name, key);
    this.pushes.push({ tag, replace: options.replace });
    if (this.entries.has(tag) && !options.replace) return { status: "exists" };
    const at = path.join(this.dir, `${tag}-${this.pushes.length}`);
    await cp(entry.filesDir, path.join(at, "files"), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(at, "manifest.json"), JSON.stringify(entry.manifest));
    this.entries.set(tag, at);
    return { status: options.replace ? "replaced" : "pushed" };
  }
}

let dir: string;
let install: string;
let remote: MemoryRemote;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-tiers-"));
  install = path.join(dir, "build", "install");
  await mkdir(path.join(install, "backends", "onnxruntime"), { recursive: true });
  await writeFile(path.join(install, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "library bytes");
  remote = new MemoryRemote(path.join(dir, "registry"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const request = (installRoot = install) => ({ key: KEY, inputs, component: ONNX, installRoot });

async function restoreInto(tiers: CacheTiers, localHit: boolean): Promise<{ steps: RestoreStep[]; target: string }> {
  const target = path.join(dir, `restore-${Math.random().toString(16).slice(2)}`, "install");
  await mkdir(target, { recursive: true });
  return { steps: await tiers.restore(ONNX, KEY, target, { localHit }), target };
}

const statuses = (steps: RestoreStep[]) => steps.map((s) => (s.status === "fetched" ? `fetched:${s.outcome.status}` : `${s.status}:${s.source}`));

/** A sound entry in the memory registry, pushed by another machine's run. */
async function seedRemote(secret?: string): Promise<void> {
  const other = new CacheTiers(new LocalCache(path.join(dir, "machine-a")), remote, secret);
  expect((await other.store(request())).push).toEqual({ status: "pushed" });
}

/** The attacker's change to the registry's entry: one more byte in the library, hash fixed up in the manifest. */
async function tamperRemote(): Promise<void> {
  const at = remote.entries.get(entryTag("onnxruntime", KEY))!;
  const manifest = JSON.parse(await readFile(path.join(at, "manifest.json"), "utf8")) as Manifest;
  await writeFile(path.join(at, "files", "backends", "onnxruntime", "libtriton_onnxruntime.so"), "library bytes, poisoned");
  manifest.files[0] = { ...manifest.files[0]!, size: 24, sha256: "0".repeat(64) };
  await writeFile(path.join(at, "manifest.json"), JSON.stringify(manifest));
}

describe("CacheTiers: a bad entry heals", () => {
  it("a local entry whose restore fails in any way (here EEXIST) is evicted, fetched from the remote cache, and restored", async () => {
    await seedRemote();
    const local = new LocalCache(path.join(dir, "machine-b"));
    const tiers = new CacheTiers(local, remote, undefined);
    expect((await tiers.store(request())).stored).toBe("stored");
    const failing = vi.spyOn(local, "restore").mockRejectedValueOnce(Object.assign(new Error("EEXIST: file already exists, symlink"), { code: "EEXIST" }));
    const { steps, target } = await restoreInto(tiers, true);
    expect(statuses(steps)).toEqual(["evicted:local", "fetched:hit", "restored:remote"]);
    expect(steps[0]).toMatchObject({ problem: "EEXIST: file already exists, symlink", next: "remote" });
    expect(failing).toHaveBeenCalledTimes(2);
    expect(await readFile(path.join(target, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "utf8")).toBe("library bytes");
  });

  it("a failure of this machine (ENOSPC) keeps the entry for a later run", async () => {
    const local = new LocalCache(path.join(dir, "machine-b"));
    const tiers = new CacheTiers(local, undefined, undefined);
    await tiers.store(request());
    vi.spyOn(local, "restore").mockRejectedValueOnce(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
    const { steps } = await restoreInto(tiers, true);
    expect(statuses(steps)).toEqual(["kept:local"]);
    expect(await local.get(KEY)).toBeDefined();
  });

  it("a remote entry refused on arrival is rebuilt and replaced in readwrite mode; the next machine gets the sound one", async () => {
    await seedRemote();
    await tamperRemote();
    const tiers = new CacheTiers(new LocalCache(path.join(dir, "machine-b")), remote, undefined);
    const { steps } = await restoreInto(tiers, false);
    expect(statuses(steps)).toEqual(["fetched:rejected"]);
    // ... the component is built, then stored: it replaces the tag instead of finding it exists.
    expect(await tiers.store(request())).toEqual({ stored: "stored", push: { status: "replaced" } });
    expect(remote.pushes.at(-1)).toEqual({ tag: entryTag("onnxruntime", KEY), replace: true });

    const machineC = new CacheTiers(new LocalCache(path.join(dir, "machine-c")), remote, undefined);
    const next = await restoreInto(machineC, false);
    expect(statuses(next.steps)).toEqual(["fetched:hit", "restored:remote"]);
    expect(await readFile(path.join(next.target, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "utf8")).toBe("library bytes");
  });

  it("an entry refused for its signature is replaced by a signed one", async () => {
    await seedRemote();
    const tiers = new CacheTiers(new LocalCache(path.join(dir, "machine-b")), remote, "fleet-secret");
    expect(statuses((await restoreInto(tiers, false)).steps)).toEqual(["fetched:rejected"]);
    expect((await tiers.store(request())).push).toEqual({ status: "replaced" });
    const pushed = JSON.parse(await readFile(path.join(remote.entries.get(entryTag("onnxruntime", KEY))!, "manifest.json"), "utf8")) as Manifest;
    expect(signatureProblem(pushed, "fleet-secret")).toBeUndefined();
  });

  it("a remote entry that was adopted but fails to restore is evicted and replaced too", async () => {
    await seedRemote();
    const local = new LocalCache(path.join(dir, "machine-b"));
    const tiers = new CacheTiers(local, remote, undefined);
    vi.spyOn(local, "restore").mockRejectedValueOnce(new RangeError('The value of "mode" is out of range.'));
    const { steps } = await restoreInto(tiers, false);
    expect(statuses(steps)).toEqual(["fetched:hit", "evicted:remote"]);
    expect(await local.get(KEY)).toBeUndefined();
    expect((await tiers.store(request())).push).toEqual({ status: "replaced" });
  });

  it("without a rejection, an existing tag is left alone", async () => {
    await seedRemote();
    const tiers = new CacheTiers(new LocalCache(path.join(dir, "machine-b")), remote, undefined);
    expect((await tiers.store(request())).push).toEqual({ status: "exists" });
    expect(remote.pushes.at(-1)?.replace).toBe(false);
  });
});
