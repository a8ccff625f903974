import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectValidMachineOutput, makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";
import { ANSI_PATTERN, containersNamed, createWorld, imageFiles, parseNdjson, processesMatching, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let small: string;
let other: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-build-");
  world = await createWorld(temp);
  small = await world.preset(
    "fixture-small",
    "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n",
  );
  other = await world.preset("fixture-other", "features: [gpu]\nendpoints: [grpc]\nbackends: [ensemble, tensorrt, dali]\nresponseCaches: [local]\n");
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("build on the real engine", () => {
  it("builds an image holding every component's files; events in order; report durations add up", async () => {
    const tag = world.tag("small");
    const report = path.join(temp, "small-report.json");
    const result = await runCli(["--preset", small, ...world.args(), "--no-cache", "--tag", tag, "--json", "--report", report], { tempDir: temp });
    expect(result.exitCode, result.stderr).toBe(0);
    const wallMs = result.durationMs;

    const events = parseNdjson(result.stdout);
    const componentEvents = events.filter((e) => e.type === "component-start" || e.type === "component-end").map((e) => `${e.type}:${String(e.name)}`);
    expect(componentEvents).toEqual([
      "component-start:core",
      "component-end:core",
      "component-start:python",
      "component-end:python",
      "component-start:onnxruntime",
      "component-end:onnxruntime",
      "component-start:checksum",
      "component-end:checksum",
    ]);
    expect(events.at(-1)).toMatchObject({ type: "result", status: "ok", image: { tag } });

    const files = [...(await imageFiles(tag)).keys()];
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/tritonserver",
        "lib/libtritonserver.so",
        "backends/python/libtriton_python.so",
        "backends/onnxruntime/libtriton_onnxruntime.so",
        "repoagents/checksum/libtritonrepoagent_checksum.so",
        "TRITON_VERSION",
      ]),
    );

    const summary = JSON.parse(await readFile(report, "utf8"));
    expect(summary).toMatchObject({ status: "ok", preset: "fixture-small", image: { tag }, source: { commit: world.server.commit } });
    expect(summary.components.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual([
      "core:built",
      "python:built",
      "onnxruntime:built",
      "checksum:built",
      "ci:skipped",
    ]);
    // The run's total is the wall time but for starting Node and loading the CLI (well under 3 s).
    expect(summary.totalDurationMs).toBeLessThanOrEqual(wallMs);
    expect(summary.totalDurationMs).toBeGreaterThan(wallMs - 3000);
    const phaseSum = summary.phases.reduce((sum: number, p: { durationMs: number }) => sum + p.durationMs, 0);
    // Phases run one after another, so they account for the wall time but for start-up and clean-up.
    expect(phaseSum).toBeLessThanOrEqual(summary.totalDurationMs);
    expect(phaseSum).toBeGreaterThan(summary.totalDurationMs * 0.9);
    // Components run one after another inside the builder phase; each did measurable work.
    const built = summary.components.filter((c: { status: string }) => c.status === "built") as Array<{ durationMs: number }>;
    expect(built.every((c) => c.durationMs > 0)).toBe(true);
    const componentSum = built.reduce((sum, c) => sum + c.durationMs, 0);
    const builderPhase = summary.phases.find((p: { phase: string }) => p.phase === "builder").durationMs;
    expect(componentSum).toBeLessThanOrEqual(builderPhase);
    expect(componentSum).toBeGreaterThan(builderPhase * 0.3);
    expect(await containersNamed(summary.runId)).toEqual([]);
  });

  it("two builds of different presets at the same time on one daemon both succeed; plain output has no ANSI codes", async () => {
    const tagA = world.tag("parallel-a");
    const tagB = world.tag("parallel-b");
    // A slow first component in each keeps both builder containers running at the same time;
    // --verbose puts the tools' output (with the fixture's colour codes) on stdout.
    const childA = startCli(["--preset", small, ...world.args(), "--no-cache", "--tag", tagA, "--verbose", "--backend", "python:slow3"], { tempDir: temp });
    const childB = startCli(["--preset", other, ...world.args(), "--no-cache", "--tag", tagB, "--json", "--verbose", "--backend", "tensorrt:slow3"], {
      tempDir: temp,
    });
    const builderA = watchFor(childA, "start  Compile components", "done   Compile components");
    const builderB = watchFor(childB, '"phase-start","phase":"builder"', '"phase-end","phase":"builder"');
    const [ra, rb] = await Promise.all([childA, childB]);
    const a = { exitCode: ra.exitCode, stdout: String(ra.stdout), stderr: String(ra.stderr) };
    const b = { exitCode: rb.exitCode, stdout: String(rb.stdout), stderr: String(rb.stderr) };
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    // the two builder phases overlapped in time
    expect(builderA.start).toBeLessThan(builderB.end ?? 0);
    expect(builderB.start).toBeLessThan(builderA.end ?? 0);
    expect([...(await imageFiles(tagA)).keys()]).toContain("backends/onnxruntime/libtriton_onnxruntime.so");
    const otherFiles = [...(await imageFiles(tagB)).keys()];
    expect(otherFiles).toEqual(
      expect.arrayContaining(["backends/tensorrt/libtriton_tensorrt.so", "backends/dali/libtriton_dali.so", "caches/local/libtritoncache_local.so"]),
    );
    expect(otherFiles).not.toContain("backends/onnxruntime/libtriton_onnxruntime.so");

    expect(ANSI_PATTERN.test(a.stdout + a.stderr)).toBe(false);
    expect(a.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] start {2}Build image \(buildbase\)$/m);
    expect(a.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] done {3}onnxruntime in /m);
    expect(a.stdout).toContain("Linking CXX shared library"); // the coloured line, without its colour
    const events = parseNdjson(b.stdout);
    expect(events.map((e) => e.type)).toContain("phase-end");
    // JSON writes ESC as \u001b: look at the decoded strings
    const strings = events
      .flatMap((e) => Object.values(e))
      .filter((v) => typeof v === "string")
      .join("\n");
    expect(strings).toContain("Linking CXX shared library");
    expect(ANSI_PATTERN.test(strings)).toBe(false);
  });

  it("a failing component: exit 1, its name and log tail, no builder container left", async () => {
    const result = await runCli(["--preset", small, ...world.args(), "--no-cache", "--backend", "onnxruntime:fail-on-purpose", "--tag", world.tag("fail")], {
      tempDir: temp,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: component 'onnxruntime' failed");
    expect(result.stderr).toContain("--- last");
    expect(result.stderr).toContain("error: fixture build failure in onnxruntime");
    const logPath = /full log: (\S+)/.exec(result.stderr)?.[1];
    expect(logPath).toMatch(/logs\/onnxruntime\.log$/);
    expect(await readFile(logPath ?? "", "utf8")).toContain("fixture build failure in onnxruntime");
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    const runId = /run (\S+): preset/.exec(result.stdout)?.[1];
    expect(runId).toBeTruthy();
    expect(await containersNamed(runId ?? "none")).toEqual([]);
  });

  it("SIGINT during the builder phase: exit 130 within seconds, no container, no orphan process", async () => {
    const child = startCli(
      ["--preset", small, ...world.args(), "--no-cache", "--backend", "python:slow-for-interrupt", "--json", "--tag", world.tag("sigint")],
      {
        tempDir: temp,
      },
    );
    let runId: string | undefined;
    let buffered = "";
    const started = new Promise<void>((resolve) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        runId ??= /"runId":"([^"]+)"/.exec(buffered)?.[1];
        if (buffered.includes('"type":"component-start","name":"python"')) resolve();
      });
    });
    await Promise.race([started, child]);
    expect(runId).toBeTruthy();
    expect(await containersNamed(runId ?? "none")).toHaveLength(1);
    await sleep(1000);
    const interruptedAt = performance.now();
    child.kill("SIGINT");
    const result = await child;
    const secondsToExit = (performance.now() - interruptedAt) / 1000;
    expect(result.exitCode).toBe(130);
    expect(secondsToExit).toBeLessThan(10); // "within seconds"; typically well under one
    expect(await containersNamed(runId ?? "none")).toEqual([]);
    expect(await processesMatching(runId ?? "none")).toEqual([]);
    const events = parseNdjson(String(result.stdout));
    expect(events).toContainEqual(expect.objectContaining({ type: "component-end", name: "python", status: "interrupted" }));
    expect(events.at(-1)).toMatchObject({ type: "result", status: "interrupted" });
  });

  it("SIGINT while the builder container is being created: no container appears afterwards", async () => {
    // docker create takes tens of ms here: interrupt at a few points inside that window.
    for (const delayMs of [30, 70, 120]) {
      const args = ["--preset", small, ...world.args(), "--no-cache", "--json", "--tag", world.tag(`sigint-early-${delayMs}`)];
      const child = startCli(args, { tempDir: temp });
      let runId: string | undefined;
      let buffered = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        runId ??= /"runId":"([^"]+)"/.exec(buffered)?.[1];
        if (buffered.includes('"phase-start","phase":"builder"') && !child.killed) setTimeout(() => child.kill("SIGINT"), delayMs);
      });
      const result = await child;
      expect(result.exitCode, `interrupted ${delayMs} ms into the builder phase`).toBe(130);
      await expectValidMachineOutput(args, String(result.stdout), temp);
      expect(runId).toBeTruthy();
      // a create the daemon finished after the CLI had gone would show up now
      await sleep(2000);
      expect(await containersNamed(runId ?? "none"), `interrupted ${delayMs} ms into the builder phase`).toEqual([]);
    }
  });
});

/** Wall-clock times at which a running CLI first printed each of two texts. */
function watchFor(child: ReturnType<typeof startCli>, startText: string, endText: string): { start?: number; end?: number } {
  const seen: { start?: number; end?: number } = {};
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    if (seen.start === undefined && buffered.includes(startText)) seen.start = Date.now();
    if (seen.end === undefined && buffered.includes(endText)) seen.end = Date.now();
  });
  return seen;
}
