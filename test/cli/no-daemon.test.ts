import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { parseNdjson } from "../helpers/world.js";

// No Docker daemon behind DOCKER_HOST: a build or compose fails at once (exit 3), and a job that
// reads --json or --report still learns how the run ended.
let temp: string;
beforeEach(async () => {
  temp = await makeTempDir("tb-no-daemon-");
});
afterEach(() => removeTempDir(temp));

describe.each([["build"], ["compose"]])("%s with no reachable Docker daemon", (strategy) => {
  it("exits 3 with the fix, ends its events with a result, and its report says failed", async () => {
    const report = path.join(temp, "report.json");
    const env = { DOCKER_HOST: `unix://${path.join(temp, "no-such.sock")}` };
    const result = await runCli(["--preset", "trtllm-onnx", "--strategy", strategy, "--json", "--report", report], { tempDir: temp, env });
    expectCleanFailure(result, 3, "error: the Docker daemon is not reachable");
    expect(result.stderr).toMatch(/^hint: .*DOCKER_HOST/m);
    const events = parseNdjson(result.stdout);
    expect(events.at(-1)).toMatchObject({ type: "result", status: "failed" });
    expect(JSON.parse(await readFile(report, "utf8"))).toMatchObject({ status: "failed", error: expect.stringContaining("Docker daemon is not reachable") });
  });
});
