import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { machineOutputFailures, makeTempDir, removeTempDir, startCli } from "../helpers/cli.js";

// The control for test/helpers/machine-output-hook.ts: a run started with startCli whose --json
// output breaks the schema is found (the wrapper prints a line in place of the CLI).

let temp: string;
beforeEach(async () => {
  temp = await makeTempDir("tb-machine-output-");
});
afterEach(() => removeTempDir(temp));

const printing = (line: string) => ["sh", "-c", `printf '%s\\n' '${line}'`, "sh"];

describe("startCli's check of machine output", () => {
  it("finds an event that does not follow the schema, naming the run", async () => {
    await startCli(["--preset", "trtllm-onnx", "--json"], { tempDir: temp, wrapper: printing('{"type":"bogus"}') });
    const failures = await machineOutputFailures();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/triton-build --preset trtllm-onnx --json: line 1 of the --json output does not follow/);
  });

  it("finds a line that is not JSON", async () => {
    await startCli(["--json"], { tempDir: temp, wrapper: printing("not json") });
    expect(await machineOutputFailures()).toEqual([expect.stringMatching(/line 1 of the --json output is not JSON/)]);
  });

  it("kills and reports a run that outlives its test", async () => {
    const child = startCli(["--json"], { tempDir: temp, wrapper: ["sh", "-c", "exec sleep 60", "sh"] });
    const failures = await machineOutputFailures(200);
    expect(failures).toEqual([expect.stringMatching(/still going after its test .*killed/)]);
    expect((await child).isTerminated).toBe(true);
  });

  it("checks nothing of a command that prints no events (the control)", async () => {
    await startCli(["cache", "ls", "--json"], { tempDir: temp, wrapper: printing("not json") });
    expect(await machineOutputFailures()).toEqual([]);
  });
});
