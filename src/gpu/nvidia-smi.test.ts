import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError } from "../errors.js";
import { queryComputeCapabilities } from "./nvidia-smi.js";

let bin: string;
beforeEach(async () => {
  bin = await mkdtemp(path.join(os.tmpdir(), "tb-nvidia-smi-"));
});
afterEach(() => rm(bin, { recursive: true, force: true }));

/** An environment whose nvidia-smi runs the given shell script. */
async function fake(script: string): Promise<NodeJS.ProcessEnv> {
  await writeFile(path.join(bin, "nvidia-smi"), `#!/bin/sh\n${script}\n`);
  await chmod(path.join(bin, "nvidia-smi"), 0o755);
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` };
}

describe("queryComputeCapabilities", () => {
  it("stops nvidia-smi when the run is aborted", async () => {
    const env = await fake("exec sleep 30");
    const controller = new AbortController();
    const reason = new Error("interrupted");
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await expect(queryComputeCapabilities({ env, signal: controller.signal })).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("says the driver is too old when nvidia-smi has no compute_cap field", async () => {
    // What nvidia-smi of a 470 driver prints for this query (stdout, exit 2).
    const env = await fake(`printf 'Field "compute_cap" is not a valid field to query.\\n\\n'; exit 2`);
    const failure = queryComputeCapabilities({ env });
    await expect(failure).rejects.toThrow(EnvironmentError);
    await expect(failure).rejects.toThrow(
      `--cuda-arch auto: this nvidia-smi cannot report compute capabilities (Field "compute_cap" is not a valid field to query.): its NVIDIA driver is too old`,
    );
  });

  it("reads the capabilities of each GPU", async () => {
    expect(await queryComputeCapabilities({ env: await fake(`printf '8.6\\n9.0\\n'`) })).toEqual(["8.6", "9.0"]);
  });
});
