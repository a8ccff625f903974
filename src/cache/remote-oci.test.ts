import { createHash } from "node:crypto";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../../test/helpers/cli.js";
import { pushCraftedEntry } from "../../test/helpers/crafted-entry.js";
import { startRegistryProxy } from "../../test/helpers/registry-proxy.js";
import { startTestRegistry, type TestRegistry, writeDockerConfig } from "../../test/helpers/registry.js";
import { cacheKey, type KeyInputs } from "./key.js";
import type { RemoteMode } from "./remote.js";
import { OciRemoteCache, type OciRemoteOptions } from "./remote-oci.js";
import { LocalCache } from "./store.js";

// The remote cache's outcomes over the distribution API, against a real registry: what a miss,
// a registry that is down or stalls, refused credentials, read mode and a tampered signed entry
// each come out as (the run turns them into the one warning, see run/cache-events.ts).

const LOOPBACK = { names: [], cidrs: ["127.0.0.0/8"] };
const COMPONENT = { name: "onnxruntime", kind: "backend" };
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
const LIB = "backends/onnxruntime/libtriton_onnxruntime.so";

let temp: string;
let registry: TestRegistry;
let source: LocalCache;
let repo: string;
let counter = 0;

beforeAll(async () => {
  temp = await makeTempDir("tb-remote-oci-");
  registry = await startTestRegistry(path.join(temp, "registry"));
  const install = path.join(temp, "install");
  await mkdir(path.join(install, "backends", "onnxruntime"), { recursive: true });
  await writeFile(path.join(install, LIB), "library bytes");
  source = new LocalCache(path.join(temp, "source-cache"));
  expect(await source.store({ key: KEY, inputs, component: COMPONENT, installRoot: install })).toBe("stored");
});
afterAll(async () => {
  await registry?.close();
  await removeTempDir(temp);
});
beforeEach(() => {
  repo = `${registry.address}/remote-oci-${++counter}`;
});

function remote(mode: RemoteMode, options: OciRemoteOptions & { reference?: string } = {}): OciRemoteCache {
  return new OciRemoteCache(options.reference ?? repo, mode, {
    env: { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: path.join(temp, "no-certs") },
    insecure: LOOPBACK,
    ...options,
  });
}

const emptyCache = () => new LocalCache(path.join(temp, `cache-${counter}-${Math.random().toString(16).slice(2)}`));

async function pushSource(cache: OciRemoteCache, signingKey?: string) {
  const entry = (await source.outgoing(KEY, { signingKey }))!;
  return cache.push(COMPONENT, KEY, entry, { replace: false });
}

describe("OciRemoteCache", () => {
  it("a tag the registry lacks is a quiet miss, and the registry is still used for pushes", async () => {
    const cache = remote("readwrite");
    expect(await cache.has(COMPONENT, KEY)).toEqual({ status: "absent" });
    expect(await cache.fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT))).toEqual({ status: "miss" });
    expect(await pushSource(cache)).toEqual({ status: "pushed" });
    expect(await cache.has(COMPONENT, KEY)).toEqual({ status: "present" });
  });

  it("pushes once: the same tag again is 'exists', with replace it is 'replaced'", async () => {
    const cache = remote("readwrite");
    expect(await pushSource(cache)).toEqual({ status: "pushed" });
    expect(await pushSource(cache)).toEqual({ status: "exists" });
    const entry = (await source.outgoing(KEY))!;
    expect(await cache.push(COMPONENT, KEY, entry, { replace: true })).toEqual({ status: "replaced" });
  });

  it("what machine A pushed, machine B (an empty cache, read mode) adopts with identical files", async () => {
    await pushSource(remote("readwrite"));
    const b = emptyCache();
    const outcome = await remote("read").fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT));
    expect(outcome).toMatchObject({ status: "hit", manifest: { key: KEY } });
    expect(await readFile(path.join(b.entryDir(KEY), "files", LIB), "utf8")).toBe("library bytes");
    expect(await b.check(KEY)).toBeUndefined();
  });

  it("read mode never pushes, nor asks the registry", async () => {
    const proxy = await startRegistryProxy(registry.address, registry);
    try {
      await writeDockerConfig(path.join(temp, `proxy-${counter}`), proxy.address, registry.user, registry.password);
      const cache = new OciRemoteCache(`${proxy.address}/remote-oci-${counter}`, "read", {
        env: { DOCKER_CONFIG: path.join(temp, `proxy-${counter}`) },
        insecure: LOOPBACK,
      });
      expect(await pushSource(cache)).toEqual({ status: "skipped", reason: "read-only remote cache" });
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("a registry that is down: 'unavailable' for both sides once, then skipped", async () => {
    const cache = remote("readwrite", { reference: "127.0.0.1:9/triton-cache" });
    const first = await cache.fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT));
    expect(first).toMatchObject({ status: "unavailable", lost: "both" });
    expect((first as { reason: string }).reason).toMatch(/^cannot reach 127\.0\.0\.1:9: .*ECONNREFUSED/);
    expect(await pushSource(cache)).toMatchObject({ status: "skipped" });
    expect(await cache.fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT))).toMatchObject({ status: "skipped" });
  });

  it("credentials the registry refuses: reading is lost first, then writing, each said once", async () => {
    const cache = new OciRemoteCache(repo, "readwrite", {
      env: await writeDockerConfig(path.join(temp, "wrong"), registry.address, "ci", "wrong-password"),
      insecure: LOOPBACK,
    });
    const read = await cache.fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT));
    expect(read).toMatchObject({ status: "unavailable", lost: "read" });
    expect((read as { reason: string }).reason).toContain(`refused the stored credentials (check \`docker login ${registry.address}\`)`);
    expect(await pushSource(cache)).toMatchObject({ status: "unavailable", lost: "write" });
    expect(await pushSource(cache)).toMatchObject({ status: "skipped" });
    expect(await registry.tags(repo.slice(registry.address.length + 1))).toEqual([]);
  });

  it("a registry that stops sending mid-blob: abandoned after the stall limit, as unavailable", async () => {
    await pushSource(remote("readwrite"));
    const proxy = await startRegistryProxy(registry.address, registry);
    try {
      await writeDockerConfig(path.join(temp, `proxy-${counter}`), proxy.address, registry.user, registry.password);
      proxy.blobs = { mode: "stall", afterBytes: 100 };
      const cache = new OciRemoteCache(`${proxy.address}/remote-oci-${counter}`, "readwrite", {
        env: { DOCKER_CONFIG: path.join(temp, `proxy-${counter}`) },
        insecure: LOOPBACK,
        stallTimeoutMs: 800,
      });
      const b = emptyCache();
      const started = performance.now();
      const outcome = await cache.fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT));
      const elapsed = performance.now() - started;
      expect(outcome).toMatchObject({ status: "unavailable", lost: "both" });
      expect((outcome as { reason: string }).reason).toMatch(/no progress for 0\.8 s$/);
      expect(elapsed).toBeGreaterThanOrEqual(800);
      expect(elapsed).toBeLessThan(5000);
      expect(await b.get(KEY)).toBeUndefined();
      expect(await b.cleanTemp()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("with signing on, an entry re-pushed with altered content and fixed-up hashes is rejected and not adopted", async () => {
    const secret = "fleet-secret";
    await pushSource(remote("readwrite"), secret);
    // The attacker can push but has no key: alter the library, fix its hash in the manifest, push.
    const work = path.join(temp, `tamper-${counter}`);
    await cp(source.entryDir(KEY), work, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(work, "manifest.json"), "utf8"));
    manifest.signature = (await source.outgoing(KEY, { signingKey: secret }))!.manifest.signature;
    const file = manifest.files.find((f: { path: string }) => f.path === LIB);
    await writeFile(path.join(work, "files", LIB), "malicious replacement");
    file.sha256 = createHash("sha256").update("malicious replacement").digest("hex");
    file.size = "malicious replacement".length;
    manifest.totalBytes = file.size;
    await writeFile(path.join(work, "manifest.json"), JSON.stringify(manifest));
    await pushCraftedEntry(registry, `remote-oci-${counter}`, `onnxruntime-${KEY}`, work);

    const b = emptyCache();
    const outcome = await remote("read").fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT, { signingKey: secret }));
    expect(outcome).toEqual({ status: "rejected", reason: "the entry's signature does not match (altered, or signed with another key)" });
    expect(await b.get(KEY)).toBeUndefined();
    // Without the key the same entry is used: that is what the key protects against.
    expect((await remote("read").fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT))).status).toBe("hit");
  });

  it("with signing on, the pushed entry carries the signature; machine B holding the key adopts it, one with another key rejects it", async () => {
    const secret = "fleet-secret";
    await pushSource(remote("readwrite"), secret);
    const b = emptyCache();
    expect(await remote("read").fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT, { signingKey: secret }))).toMatchObject({ status: "hit" });
    expect((await b.get(KEY))?.signature).toBe((await source.outgoing(KEY, { signingKey: secret }))!.manifest.signature);
    const c = emptyCache();
    expect(await remote("read").fetch(COMPONENT, KEY, c.incoming(KEY, COMPONENT, { signingKey: "another-secret" }))).toEqual({
      status: "rejected",
      reason: "the entry's signature does not match (altered, or signed with another key)",
    });
    expect(await c.get(KEY)).toBeUndefined();
  });

  it("pull-only credentials in readwrite mode: the refused push loses only writing, and reading goes on", async () => {
    const tokenRegistry = await startTestRegistry(path.join(temp, "token-registry"), { auth: "token" });
    try {
      const reference = `${tokenRegistry.address}/triton-cache`;
      const options = { env: tokenRegistry.env, insecure: LOOPBACK };
      expect(await pushSource(new OciRemoteCache(reference, "readwrite", options))).toEqual({ status: "pushed" });
      const readerEnv = await tokenRegistry.dockerConfig(path.join(temp, "token-reader"), "reader", "reader-secret");
      const cache = new OciRemoteCache(reference, "readwrite", { ...options, env: readerEnv });
      const entry = (await source.outgoing(KEY))!;
      const refused = await cache.push(COMPONENT, KEY, entry, { replace: true });
      expect(refused).toMatchObject({ status: "unavailable", lost: "write" });
      expect((refused as { reason: string }).reason).toContain(`check \`docker login ${tokenRegistry.address}\``);
      expect(await cache.push(COMPONENT, KEY, entry, { replace: true })).toMatchObject({ status: "skipped" });
      expect(await cache.fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT))).toMatchObject({ status: "hit" });
    } finally {
      await tokenRegistry.close();
    }
  });

  it("an aborted fetch is not a miss: the abort reaches the caller, and nothing is adopted or left in tmp/", async () => {
    await pushSource(remote("readwrite"));
    const proxy = await startRegistryProxy(registry.address, registry);
    try {
      await writeDockerConfig(path.join(temp, `proxy-${counter}`), proxy.address, registry.user, registry.password);
      proxy.blobs = { mode: "slow", bytesPerSecond: 1024 };
      const cache = new OciRemoteCache(`${proxy.address}/remote-oci-${counter}`, "read", {
        env: { DOCKER_CONFIG: path.join(temp, `proxy-${counter}`) },
        insecure: LOOPBACK,
      });
      const b = emptyCache();
      const controller = new AbortController();
      const fetching = cache.fetch(COMPONENT, KEY, b.incoming(KEY, COMPONENT), controller.signal);
      await proxy.blobStarted();
      const reason = new Error("interrupted");
      controller.abort(reason);
      await expect(fetching).rejects.toBe(reason);
      expect(await b.get(KEY)).toBeUndefined();
      expect(await b.cleanTemp()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("an entry whose manifest names another component is rejected before its files are fetched", async () => {
    const work = path.join(temp, `other-${counter}`);
    await cp(source.entryDir(KEY), work, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(work, "manifest.json"), "utf8"));
    await writeFile(path.join(work, "manifest.json"), JSON.stringify({ ...manifest, key: "b".repeat(64) }));
    await pushCraftedEntry(registry, `remote-oci-${counter}`, `onnxruntime-${KEY}`, work);
    const outcome = await remote("read").fetch(COMPONENT, KEY, emptyCache().incoming(KEY, COMPONENT));
    expect(outcome).toEqual({ status: "rejected", reason: `it says it is ${"b".repeat(12)}, not ${KEY.slice(0, 12)}` });
  });
});
