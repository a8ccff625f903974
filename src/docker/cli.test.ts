import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { docker, DockerCommandError, dockerOk } from "./cli.js";

// A stand-in docker CLI (TRITON_BUILD_DOCKER) that hangs, as a pull from a registry that never answers.
let dir: string;
let saved: string | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-docker-cli-"));
  const fake = path.join(dir, "docker");
  await writeFile(fake, "#!/bin/sh\nexec sleep 30\n");
  await chmod(fake, 0o755);
  saved = process.env.TRITON_BUILD_DOCKER;
  process.env.TRITON_BUILD_DOCKER = fake;
});
afterEach(async () => {
  if (saved === undefined) delete process.env.TRITON_BUILD_DOCKER;
  else process.env.TRITON_BUILD_DOCKER = saved;
  await rm(dir, { recursive: true, force: true });
});

describe("docker adapter", () => {
  it("a command stopped by its timeout says so in its tail and its error", async () => {
    const result = await docker(["pull", "registry.example.com/x:1"], { timeoutMs: 300 });
    expect(result.exitCode).not.toBe(0);
    expect(result.tail.at(-1)).toBe("timed out after 0.3 s");
    const error = await dockerOk(["pull", "registry.example.com/x:1"], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerCommandError);
    expect((error as Error).message).toBe("docker pull registry.example.com/x:1 failed: timed out after 0.3 s");
  });
});
