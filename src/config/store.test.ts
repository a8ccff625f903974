import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { isImageRepository, parseConfigValue } from "./store.js";

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
    expect(() => parseConfigValue("githubOrganization", "https://git.local/org;touch /tmp/x")).toThrow(
      "config githubOrganization: 'https://git.local/org;touch /tmp/x' contains ';', a shell metacharacter",
    );
  });

  it("an image repository has no tag", () => {
    expect(["127.0.0.1:5000/triton-cache", "ghcr.io/acme/cache", "cache"].map(isImageRepository)).toEqual([true, true, true]);
    expect(["cache:latest", "a b", "ghcr.io/acme/cache@sha256:00"].map(isImageRepository)).toEqual([false, false, false]);
  });
});
