import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BuildEvent } from "../run/events.js";
import { DockerCommandError } from "../docker/cli.js";
import { importFiles, pullImage, pushImage, removeImage } from "../docker/image.js";
import { RegistryError } from "../registry/errors.js";
import { tagExists } from "../registry/lookup.js";
import { CacheEventReporter } from "../run/cache-events.js";
import { cacheKey, type KeyInputs } from "./key.js";
import type { Manifest } from "./manifest.js";
import type { RemoteMode } from "./remote.js";
import { DockerRemoteCache } from "./remote-docker.js";
import { signatureProblem } from "./signing.js";
import { LocalCache } from "./store.js";

// Only the docker adapters are replaced: what the registry answers is the input under test.
vi.mock(import("../docker/image.js"), async (importOriginal) => ({
  ...(await importOriginal()),
  pullImage: vi.fn(),
  pushImage: vi.fn(),
  importFiles: vi.fn(),
  removeImage: vi.fn(),
}));
vi.mock(import("../registry/lookup.js"), async (importOriginal) => ({
  ...(await importOriginal()),
  tagExists: vi.fn(),
}));

const REPO = "registry.example.com/triton-cache";
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

let dir: string;
let local: LocalCache;
let events: BuildEvent[];

/** What `docker pull` fails with: a DockerCommandError whose tail holds docker's own lines. */
function dockerFailure(args: string[], ...lines: string[]): DockerCommandError {
  return new DockerCommandError(args, { exitCode: 1, stdout: "", stderr: lines.join("\n"), tail: lines });
}
const pullFails = (...lines: string[]) => vi.mocked(pullImage).mockRejectedValue(dockerFailure(["pull", "--quiet", `${REPO}:onnxruntime-${KEY}`], ...lines));

const ANSWERS = {
  missing: `Error response from daemon: manifest for ${REPO}:onnxruntime-${KEY} not found: manifest unknown: manifest unknown`,
  refused: `Error response from daemon: Get "https://registry.example.com/v2/": dial tcp 10.0.0.5:443: connect: connection refused`,
  unauthorized: `Error response from daemon: Head "https://registry.example.com/v2/triton-cache/manifests/onnxruntime-${KEY}": unauthorized: authentication required`,
  denied: "denied: requested access to the resource is denied",
};

const components: Record<string, { name: string; kind: string }> = {
  onnxruntime: { name: "onnxruntime", kind: "backend" },
  python: { name: "python", kind: "backend" },
};

/**
 * The docker transport as a run uses it: outcomes turned into events by the run's reporter, the
 * entry taken from (and adopted into) the local cache; answers as the old API gave them.
 */
function remote(mode: RemoteMode, secret?: string) {
  const transport = new DockerRemoteCache(REPO, mode, "run1");
  const report = new CacheEventReporter((event) => events.push(event), REPO);
  return {
    async fetch(name: string, key: string, into: LocalCache, signal?: AbortSignal): Promise<boolean> {
      const component = components[name]!;
      const outcome = await transport.fetch(component, key, into.incoming(key, component, { signingKey: secret }), signal);
      report.fetched(name, transport.reference(name, key), outcome);
      return outcome.status === "hit";
    },
    async push(name: string, key: string, from: LocalCache): Promise<string> {
      const entry = await from.outgoing(key, { signingKey: secret });
      if (!entry) return "skipped";
      const outcome = await transport.push(components[name]!, key, entry, { replace: false });
      report.remote(outcome);
      return outcome.status === "unavailable" ? "skipped" : outcome.status;
    },
  };
}

const warnings = () => events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message);

beforeEach(async () => {
  vi.resetAllMocks();
  vi.mocked(removeImage).mockResolvedValue(undefined);
  vi.mocked(importFiles).mockResolvedValue("sha256:imported");
  vi.mocked(pushImage).mockResolvedValue(undefined);
  vi.mocked(tagExists).mockResolvedValue(false);
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-remote-unit-"));
  local = new LocalCache(path.join(dir, "cache"));
  const install = path.join(dir, "install");
  await mkdir(path.join(install, "backends", "onnxruntime"), { recursive: true });
  await writeFile(path.join(install, "backends", "onnxruntime", "libtriton_onnxruntime.so"), "library bytes");
  expect(await local.store({ key: KEY, inputs, component: { name: "onnxruntime", kind: "backend" }, installRoot: install })).toBe("stored");
  events = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("RemoteCache.fetch: what a failed pull means", () => {
  it("'manifest unknown' is a quiet miss: no warning, and the registry is still used", async () => {
    pullFails(ANSWERS.missing);
    const cache = remote("readwrite");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(await cache.fetch("python", KEY, local)).toBe(false);
    expect(events).toEqual([]);
    expect(pullImage).toHaveBeenCalledTimes(2);
    expect(vi.mocked(pullImage).mock.calls[0]?.[0]).toBe(`${REPO}:onnxruntime-${KEY}`);
    // a miss does not stop pushes either
    expect(await cache.push("onnxruntime", KEY, local)).toBe("pushed");
  });

  it("'connection refused' gives exactly one warning and turns off both reading and writing", async () => {
    pullFails(ANSWERS.refused);
    const cache = remote("readwrite");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(await cache.fetch("python", KEY, local)).toBe(false);
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(pullImage).toHaveBeenCalledTimes(1);
    expect(tagExists).not.toHaveBeenCalled();
    expect(importFiles).not.toHaveBeenCalled();
    expect(pushImage).not.toHaveBeenCalled();
    expect(warnings()).toEqual([`remote cache ${REPO} is unavailable (${ANSWERS.refused}); continuing without it`]);
  });

  it("an 'unauthorized' pull warns once and stops reading, but still lets pushes seed the cache", async () => {
    pullFails(ANSWERS.unauthorized);
    const cache = remote("readwrite");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(await cache.fetch("python", KEY, local)).toBe(false);
    expect(pullImage).toHaveBeenCalledTimes(1);
    expect(warnings()).toEqual([`remote cache ${REPO} cannot be read (${ANSWERS.unauthorized}); continuing without it`]);
    expect(await cache.push("onnxruntime", KEY, local)).toBe("pushed");
    expect(pushImage).toHaveBeenCalledTimes(1);
    expect(warnings()).toHaveLength(1);
  });

  it("a pull that times out gives one warning saying so, and turns off writing too", async () => {
    vi.mocked(pullImage).mockRejectedValue(
      new DockerCommandError(["pull", "--quiet", `${REPO}:onnxruntime-${KEY}`], { exitCode: -1, stdout: "", stderr: "", tail: ["timed out after 1800 s"] }),
    );
    const cache = remote("readwrite");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(tagExists).not.toHaveBeenCalled();
    expect(warnings()).toEqual([`remote cache ${REPO} is unavailable (timed out after 1800 s); continuing without it`]);
  });

  it("refused reads and then refused writes: one warning, the second problem said as information", async () => {
    pullFails(ANSWERS.unauthorized);
    vi.mocked(tagExists).mockRejectedValue(new RegistryError("registry.example.com refused the stored credentials", "denied", 401));
    const cache = remote("readwrite");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(warnings()).toHaveLength(1);
    expect(events.filter((e) => e.type === "info").map((e) => (e as { message: string }).message)).toEqual([
      `remote cache ${REPO} cannot be written (registry.example.com refused the stored credentials); continuing without it`,
    ]);
  });

  it("'unauthorized' wins over words that would otherwise mean a missing entry", async () => {
    pullFails("Error response from daemon: pull access for triton-cache: not found", "unauthorized: authentication required");
    expect(await remote("read").fetch("onnxruntime", KEY, local)).toBe(false);
    expect(warnings()).toEqual([`remote cache ${REPO} cannot be read (unauthorized: authentication required); continuing without it`]);
  });

  it("an aborted pull is not a miss: the abort reaches the caller", async () => {
    const controller = new AbortController();
    vi.mocked(pullImage).mockImplementation(async () => {
      controller.abort();
      throw new Error("docker command cancelled");
    });
    await expect(remote("read").fetch("onnxruntime", KEY, local, controller.signal)).rejects.toThrow("docker command cancelled");
    expect(events).toEqual([]);
  });
});

describe("RemoteCache.push", () => {
  it("does not push when the registry already has the tag", async () => {
    vi.mocked(tagExists).mockResolvedValue(true);
    expect(await remote("readwrite").push("onnxruntime", KEY, local)).toBe("exists");
    expect(tagExists).toHaveBeenCalledWith(REPO, `onnxruntime-${KEY}`, undefined);
    expect(importFiles).not.toHaveBeenCalled();
    expect(pushImage).not.toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it("pushes the entry as one image with its labels, and signs the manifest it carries when a secret is set", async () => {
    let carried: Manifest | undefined;
    vi.mocked(importFiles).mockImplementation(async (parts) => {
      carried = JSON.parse(await readFile(path.join(parts[0]!.dir, "manifest.json"), "utf8")) as Manifest;
      return "sha256:imported";
    });
    expect(await remote("readwrite", "fleet-secret").push("onnxruntime", KEY, local)).toBe("pushed");
    const [parts, ref, options] = vi.mocked(importFiles).mock.calls[0]!;
    expect(ref).toBe(`${REPO}:onnxruntime-${KEY}`);
    expect(parts[1]).toEqual({ dir: local.entryDir(KEY), paths: ["files"] });
    expect(options?.labels).toMatchObject({
      "org.triton-build.key": KEY,
      "org.triton-build.component": "onnxruntime",
      "org.triton-build.signed": "hmac-sha256",
    });
    expect(carried?.key).toBe(KEY);
    expect(signatureProblem(carried!, "fleet-secret")).toBeUndefined();
    expect(vi.mocked(pushImage).mock.calls[0]?.[0]).toBe(`${REPO}:onnxruntime-${KEY}`);
    // the local entry itself stays unsigned
    expect((await local.get(KEY))?.signature).toBeUndefined();
  });

  it("read mode never pushes, nor asks the registry", async () => {
    const cache = remote("read");
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(tagExists).not.toHaveBeenCalled();
    expect(importFiles).not.toHaveBeenCalled();
    expect(pushImage).not.toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it("an entry the local cache does not have is skipped", async () => {
    expect(await local.outgoing("0".repeat(64))).toBeUndefined();
    expect(await remote("readwrite").push("onnxruntime", "0".repeat(64), local)).toBe("skipped");
    expect(tagExists).not.toHaveBeenCalled();
  });

  it("a refused push warns once and stops writing, but reading goes on", async () => {
    vi.mocked(pushImage).mockRejectedValue(
      dockerFailure(["push", `${REPO}:onnxruntime-${KEY}`], "The push refers to repository [registry.example.com/triton-cache]", ANSWERS.denied),
    );
    pullFails(ANSWERS.missing);
    const cache = remote("readwrite");
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(await cache.push("python", KEY, local)).toBe("skipped");
    expect(pushImage).toHaveBeenCalledTimes(1);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(
      new RegExp(`^remote cache ${REPO} cannot be written \\(.*denied: requested access to the resource is denied\\); continuing without it$`),
    );
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(pullImage).toHaveBeenCalledTimes(1);
    expect(warnings()).toHaveLength(1);
  });

  it("a registry that cannot be reached when asked for the tag turns off reading too", async () => {
    vi.mocked(tagExists).mockRejectedValue(new RegistryError("cannot reach registry.example.com: Error: connect ECONNREFUSED 10.0.0.5:443", "unreachable"));
    const cache = remote("readwrite");
    expect(await cache.push("onnxruntime", KEY, local)).toBe("skipped");
    expect(await cache.fetch("onnxruntime", KEY, local)).toBe(false);
    expect(pullImage).not.toHaveBeenCalled();
    expect(warnings()).toEqual([
      `remote cache ${REPO} is unavailable (cannot reach registry.example.com: Error: connect ECONNREFUSED 10.0.0.5:443); continuing without it`,
    ]);
  });
});
