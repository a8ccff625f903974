import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEntryTag } from "../cache/remote.js";
import { dockerCredentials, parseRepository } from "./registry.js";

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
