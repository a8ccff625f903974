import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { isImageRepository, parseConfigValue, readConfig } from "./store.js";

describe("config set values", () => {
  it("local paths are stored absolute, URLs and command names as typed", () => {
    const cwd = "/home/u/work";
    expect(parseConfigValue("source", "../srv/server", cwd).value).toBe("/home/u/srv/server");
    expect(parseConfigValue("source", "git@github.com:org/server.git", cwd).value).toBe("git@github.com:org/server.git");
    expect(parseConfigValue("source", "https://github.com/triton-inference-server/server", cwd).value).toBe(
      "https://github.com/triton-inference-server/server",
    );
    expect(parseConfigValue("cacheDir", "cache", cwd).value).toBe("/home/u/work/cache");
    expect(parseConfigValue("workRoot", "./runs", cwd).value).toBe("/home/u/work/runs");
    expect(parseConfigValue("python", "python3.11", cwd).value).toBe("python3.11");
    expect(parseConfigValue("python", "venv/bin/python", cwd).value).toBe("/home/u/work/venv/bin/python");
    expect(parseConfigValue("githubOrganization", "https://git.local/triton", cwd).value).toBe("https://git.local/triton");
  });

  it("a size and a repository must parse", () => {
    expect(parseConfigValue("cacheMaxSize", "200GB").value).toBe("200GB");
    expect(() => parseConfigValue("cacheMaxSize", "lots")).toThrow(UsageError);
    expect(() => parseConfigValue("cacheMaxSize", "lots")).toThrow("config cacheMaxSize: 'lots' is not a size");
    expect(parseConfigValue("remoteCache", "registry.example.com:5000/triton-cache").value).toBe("registry.example.com:5000/triton-cache");
    expect(() => parseConfigValue("remoteCache", "Registry/Cache")).toThrow("config remoteCache: 'Registry/Cache' is not an image repository");
    expect(() => parseConfigValue("remoteCache", "registry.example.com/cache:v1")).toThrow(UsageError);
  });

  it("a job count and an organisation are checked as the flags are", () => {
    expect(parseConfigValue("jobs", "8").value).toBe(8);
    for (const raw of ["0x10", "99999999999", "0", "1e3"]) expect(() => parseConfigValue("jobs", raw), raw).toThrow(UsageError);
    expect(() => parseConfigValue("jobs", "0x10")).toThrow("config jobs: '0x10' is not a positive decimal integer");
    expect(() => parseConfigValue("cacheDir", "/data/caf\ufffd")).toThrow("config cacheDir: '/data/caf\ufffd' holds bytes that are not valid UTF-8");
    expect(() => parseConfigValue("githubOrganization", "https://git.local/org;touch /tmp/x")).toThrow(
      "config githubOrganization: 'https://git.local/org;touch /tmp/x' contains ';', a shell metacharacter",
    );
  });

  it("an image repository has no tag", () => {
    expect(["127.0.0.1:5000/triton-cache", "ghcr.io/acme/cache", "cache"].map(isImageRepository)).toEqual([true, true, true]);
    expect(["cache:latest", "a b", "ghcr.io/acme/cache@sha256:00"].map(isImageRepository)).toEqual([false, false, false]);
  });
});

describe("reading the config file", () => {
  // What `config set` (conf) writes is read back in test/cli/plan.test.ts: importing conf here
  // would leave its signal handlers in this test process.
  it("checks each value as conf's schema does, ignores unknown keys, and installs no signal handler", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tb-config-"));
    try {
      const env = { TRITON_BUILD_CONFIG_DIR: dir };
      expect(await readConfig(env)).toEqual({});
      const file = path.join(dir, "config.json");
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"].map((name) => process.listenerCount(name));
      await writeFile(file, JSON.stringify({ jobs: 4, remoteCacheMode: "readwrite", source: "/srv/server", fromANewerVersion: true }));
      expect(await readConfig(env)).toEqual({ jobs: 4, remoteCacheMode: "readwrite", source: "/srv/server" });
      // conf's writer (when-exit) would add handlers that re-send a signal: reading never loads it
      expect(["SIGINT", "SIGTERM", "SIGHUP"].map((name) => process.listenerCount(name))).toEqual(signals);

      for (const [content, problem] of [
        ["{not json", `cannot read the config file ${file}: `],
        ["[1]", "it does not hold a JSON object"],
        [JSON.stringify({ jobs: "4" }), "jobs must be an integer from 1 to 1024"],
        [JSON.stringify({ jobs: 0 }), "jobs must be an integer from 1 to 1024"],
        [JSON.stringify({ remoteCacheMode: "write" }), "remoteCacheMode must be one of read, readwrite"],
        [JSON.stringify({ source: "" }), "source must be a non-empty string"],
        [Buffer.from([0x7b, 0x22, 0x73, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]), "it is not valid UTF-8 text"],
      ] as Array<[string | Buffer, string]>) {
        await writeFile(file, content);
        await expect(readConfig(env), String(content)).rejects.toThrow(problem);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
