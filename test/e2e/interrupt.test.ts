// Interrupts on real engines (the default one and triton-build-engine2): Ctrl-C during a parallel
// compile keeps what finished; a run killed with -9 at any point leaves nothing behind once the
// next run has started on those engines.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";
import { ENGINE2, leftOnEngine } from "../helpers/engines.js";
import { createWorld, parseNdjson, type World } from "../helpers/world.js";

const ENGINES = ["--engine", "default", "--engine", ENGINE2];

let temp: string;
let world: World;
let preset: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-interrupt-");
  // checksum is done in a second; the others wait long enough to be interrupted
  world = await createWorld(temp, {
    fixtureJson: `{\n  "default": 2,\n  "tritonserver_wait_s": 20,\n  "python_wait_s": 20,\n  "onnxruntime_wait_s": 20,\n  "checksum_wait_s": 1\n}\n`,
  });
  preset = await world.preset(
    "interrupted",
    "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n",
  );
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

/** Starts a build with --json and calls `at` on every event until it returns true. */
function watch(args: string[], at: (event: Record<string, unknown>) => boolean) {
  const child = startCli(["--preset", preset, ...world.args(), ...args, "--json"], { tempDir: temp });
  let runId: string | undefined;
  let buffered = "";
  const reached = new Promise<boolean>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const event = JSON.parse(line) as Record<string, unknown>;
        if (event.type === "run-start") runId = event.runId as string;
        if (at(event)) resolve(true);
      }
    });
    void child.then(() => resolve(false));
  });
  return { child, reached, runId: () => runId };
}

describe("Ctrl-C during a parallel compile", () => {
  it("exit 130, no container left on any engine, the finished component cached; the next run reuses it", async () => {
    const cacheDir = path.join(temp, "cache-ctrl-c");
    const started = new Set<string>();
    let checksumDone = false;
    const run = watch(["--cache-dir", cacheDir, ...ENGINES, "--tag", world.tag("ctrl-c")], (event) => {
      if (event.type === "component-start") started.add(event.name as string);
      if (event.type === "component-end" && event.name === "checksum" && event.status === "ok") checksumDone = true;
      return checksumDone && started.size === 4;
    });
    expect(await run.reached, "checksum finished while the others compiled").toBe(true);
    const runId = run.runId() as string;
    expect(runId).toMatch(/^\d{8}-\d{6}-interrupted-[0-9a-f]{6}$/);
    // the cache entry of checksum is written as soon as it finished: give that a moment
    await sleep(1500);
    const interruptedAt = performance.now();
    run.child.kill("SIGINT");
    const result = await run.child;
    expect(result.exitCode).toBe(130);
    expect((performance.now() - interruptedAt) / 1000).toBeLessThan(20);
    // What had finished when Ctrl-C came: checksum, and on a loaded machine maybe core (its 20 s
    // wait can end before checksum starts on the second engine); the others were compiling.
    const ends = parseNdjson(String(result.stdout)).filter((e) => e.type === "component-end");
    const finished = ends.filter((e) => e.status === "ok").map((e) => e.name as string);
    expect(finished).toContain("checksum");
    expect(ends.filter((e) => e.status === "interrupted").length, "components still compiling were stopped").toBeGreaterThan(0);
    const kept = /error: interrupted by SIGINT; (.+) finished and (?:is|are) in the cache, so the next run resumes after (?:it|them)/.exec(
      String(result.stderr),
    );
    expect(kept?.[1]?.split(", ").sort(), String(result.stderr)).toEqual([...finished].sort());
    expect(await leftOnEngine("default", runId)).toEqual([]);
    expect(await leftOnEngine(ENGINE2, runId)).toEqual([]);
    const listed = JSON.parse((await runCli(["cache", "ls", "--cache-dir", cacheDir, "--json"], { tempDir: temp })).stdout) as Array<{
      component: { name: string };
    }>;
    expect(listed.map((e) => e.component.name).sort()).toEqual([...finished].sort());

    const reportFile = path.join(temp, "resumed.json");
    const next = await runCli(
      ["--preset", preset, ...world.args(), "--cache-dir", cacheDir, ...ENGINES, "--tag", world.tag("resumed"), "--report", reportFile],
      {
        tempDir: temp,
      },
    );
    expect(next.exitCode, next.stderr).toBe(0);
    const report = JSON.parse(await readFile(reportFile, "utf8")) as { components: Array<{ name: string; status: string }> };
    const status = (name: string) => (finished.includes(name) ? "cached" : "built");
    expect(Object.fromEntries(report.components.map((c) => [c.name, c.status]))).toEqual({
      core: status("core"),
      python: status("python"),
      onnxruntime: status("onnxruntime"),
      checksum: "cached",
      ci: "skipped",
    });
  });
});

describe("kill -9", () => {
  const points: Array<{ name: string; at: (event: Record<string, unknown>) => boolean; args?: string[]; madeThere?: (runId: string) => string }> = [
    { name: "while the buildbase images are built", at: (e) => e.type === "phase-output" && e.phase === "buildbase" && /Step 7\//.test(String(e.line)) },
    { name: "while builders compile on both engines", at: (e) => e.type === "component-start" && e.engine === ENGINE2 },
    {
      // The builder's docker wrapper has tagged the nested image with the run's name; its
      // container comes next (or not, once the builder is gone).
      name: "during ONNX Runtime's nested docker build",
      at: (e) =>
        e.type === "component-output" && e.name === "onnxruntime" && /Successfully tagged triton-build\/tritonserver_onnxruntime:/.test(String(e.line)),
      args: ["--verbose"],
      madeThere: (runId) => `triton-build/tritonserver_onnxruntime:${runId}-onnxruntime`,
    },
    { name: "while the final image is built", at: (e) => e.type === "phase-start" && e.phase === "final-image" },
  ];
  for (const point of points) {
    it(`${point.name}: the next run removes every container, tag and lease of the killed one, on both engines`, async () => {
      // Without the cache every killed run compiles; the runs after them share one, so only the first compiles.
      const cacheDir = path.join(temp, "cache-after-kill");
      const run = watch(["--no-cache", ...ENGINES, "--tag", world.tag("killed"), ...(point.args ?? [])], point.at);
      expect(await run.reached, `the run reached the point: ${point.name}`).toBe(true);
      run.child.kill("SIGKILL");
      await run.child;
      const runId = run.runId() as string;
      expect(runId).toMatch(/^\d{8}-\d{6}-interrupted-[0-9a-f]{6}$/);
      // What the daemon was doing for the killed CLI ends (a build is cancelled, a builder runs on).
      await sleep(2000);
      const leftovers = [...(await leftOnEngine("default", runId)), ...(await leftOnEngine(ENGINE2, runId))];
      expect(
        leftovers.some((name) => name === `triton-build-run-${runId}`),
        "the killed run's lease is there",
      ).toBe(true);
      if (point.madeThere) expect(leftovers, "what the killed run made at that point is there").toContain(point.madeThere(runId));

      const next = await runCli(["--preset", preset, ...world.args(), "--cache-dir", cacheDir, ...ENGINES, "--tag", world.tag("after-kill")], {
        tempDir: temp,
      });
      expect(next.exitCode, next.stderr).toBe(0);
      expect(next.stdout).toContain(`removed what run ${runId} left`);
      expect(await leftOnEngine("default", runId)).toEqual([]);
      expect(await leftOnEngine(ENGINE2, runId)).toEqual([]);
    });
  }
});
