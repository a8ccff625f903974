import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEntryTag } from "../cache/entry-tag.js";
import { allowsPlainHttp, dockerCredentials, parseRepository } from "./registry.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-registry-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("registry references", () => {
  it("splits registry and repository like docker does", () => {
    expect(parseRepository("127.0.0.1:5000/triton-cache")).toEqual({ registry: "127.0.0.1:5000", repository: "triton-cache" });
    expect(parseRepository("ghcr.io/acme/ml/triton-cache")).toEqual({ registry: "ghcr.io", repository: "acme/ml/triton-cache" });
    expect(parseRepository("localhost/cache")).toEqual({ registry: "localhost", repository: "cache" });
    expect(parseRepository("acme/cache")).toEqual({ registry: "docker.io", repository: "acme/cache" });
  });

  it("reads the credentials `docker login` stored", async () => {
    const auth = Buffer.from("ci:s3cret:with-colon").toString("base64");
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ auths: { "registry.example.com": { auth } } }));
    expect(await dockerCredentials("registry.example.com", { DOCKER_CONFIG: dir })).toEqual({ username: "ci", password: "s3cret:with-colon" });
    expect(await dockerCredentials("other.example.com", { DOCKER_CONFIG: dir })).toBeUndefined();
  });

  it("entry tags are <component>-<key>", () => {
    const key = "a".repeat(64);
    expect(parseEntryTag(`onnxruntime-${key}`)).toEqual({ name: "onnxruntime", key });
    expect(parseEntryTag(`my_backend-x-${key}`)).toEqual({ name: "my_backend-x", key });
    expect(parseEntryTag("latest")).toBeUndefined();
  });
});

describe("plain HTTP", () => {
  const daemon = { names: ["registry.lan:5000", "mirror.lan"], cidrs: ["127.0.0.0/8", "10.20.0.0/16"] };
  it("is allowed where the Docker daemon allows it: insecure names and ranges, and localhost", () => {
    expect(allowsPlainHttp("registry.lan:5000", daemon)).toBe(true);
    expect(allowsPlainHttp("mirror.lan:443", daemon)).toBe(true);
    expect(allowsPlainHttp("127.0.0.1:5000", daemon)).toBe(true);
    expect(allowsPlainHttp("10.20.3.4:5000", daemon)).toBe(true);
    expect(allowsPlainHttp("localhost:5000", { names: [], cidrs: [] })).toBe(true);
  });
  it("is not allowed anywhere else", () => {
    expect(allowsPlainHttp("registry.lan:5001", daemon)).toBe(false);
    expect(allowsPlainHttp("10.21.0.1:5000", daemon)).toBe(false);
    expect(allowsPlainHttp("ghcr.io", daemon)).toBe(false);
    expect(allowsPlainHttp("127.0.0.1:5000", { names: [], cidrs: [] })).toBe(false);
  });
});
