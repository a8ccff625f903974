// Parallel builders and several engines on real Docker engines: the default one and the second
// engine scripts/setup-docker.sh starts (docker context triton-build-engine2). Component costs
// here are mostly waiting (fixture.json <name>_wait_s), as clones and downloads are for many real
// components. How much faster parallel builds are is measured by `npm run bench` (BENCHMARKS.md),
// not asserted here.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";
import { PROJECT_ROOT } from "../helpers/fixture-repo.js";
import { ENGINE2, leftOnEngine } from "../helpers/engines.js";
import { createWorld, imageFiles, parseNdjson, treeDifferences, type World } from "../helpers/world.js";

interface Report {
  status: string;
  runId: string;
  phases: Array<{ phase: string; status: string; durationMs: number }>;
  components: Array<{ name: string; status: string; engine?: string; builder?: number; startedAt?: string; endedAt?: string; durationMs?: number }>;
  warnings: string[];
}

let temp: string;
let world: World;
let preset: string;
let serial: { tag: string; report: Report };

const COMPILED = ["core", "python", "onnxruntime", "checksum"];

async function build(name: string, extra: string[], options: { expectExit?: number } = {}) {
  const tag = world.tag(name);
  const reportFile = path.join(temp, `${name}.report.json`);
  const result = await runCli(["--preset", preset, ...world.args(), "--tag", tag, "--report", reportFile, ...extra], { tempDir: temp });
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(options.expectExit ?? 0);
  return { tag, result, report: JSON.parse(await readFile(reportFile, "utf8")) as Report };
}

/** Most components compiling at the same moment, from the report's start and end times. */
function mostAtOnce(report: Report): number {
  const edges = report.components
    .filter((c) => c.startedAt && c.endedAt)
    .flatMap((c) => [
      { at: Date.parse(c.startedAt as string), step: 1 },
      { at: Date.parse(c.endedAt as string), step: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.step;
    most = Math.max(most, now);
  }
  return most;
}

/**
 * The image files two builds share. Core's `tar zcf` of its third-party sources carries the
 * build's timestamps (as build.py's does), so that one file's bytes differ between any two builds.
 */
function sameFiles(left: Map<string, string>, right: Map<string, string>): string[] {
  return treeDifferences(left, right).filter((d) => !/^third-party-src\/src\.tar\.gz: file 666 \S+ \| file 666 \S+$/.test(d));
}

beforeAll(async () => {
  temp = await makeTempDir("tb-parallel-");
  world = await createWorld(temp, {
    fixtureJson: `{\n  "default": 5,\n  "tritonserver_wait_s": 6,\n  "python_wait_s": 3,\n  "onnxruntime_wait_s": 3,\n  "checksum_wait_s": 3\n}\n`,
  });
  preset = await world.preset("waits", "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n");
  serial = await build("serial", ["--no-cache", "--parallel", "1"]);
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("parallel builders on one engine", () => {
  it("by default the components compile at the same time, each in its own builder; the image holds the files of --parallel 1's", async () => {
    expect(mostAtOnce(serial.report)).toBe(1);
    const traceFile = path.join(temp, "parallel.trace.json");
    const parallel = await build("parallel", ["--no-cache", "--trace", traceFile]);
    expect(mostAtOnce(parallel.report)).toBeGreaterThanOrEqual(2);
    const compiled = parallel.report.components.filter((c) => c.status === "built");
    expect(compiled.map((c) => c.name).sort()).toEqual([...COMPILED].sort());
    expect(compiled.every((c) => c.engine === "default" && typeof c.builder === "number")).toBe(true);
    expect(parallel.result.stdout).toMatch(/4 builder\(s\) at a time on engine default/);
    expect(sameFiles(await imageFiles(parallel.tag), await imageFiles(serial.tag))).toEqual([]);

    // --trace: trace-event JSON, one complete event per compiled component on its builder's lane
    const trace = JSON.parse(await readFile(traceFile, "utf8")) as {
      traceEvents: Array<{ name: string; ph: string; cat?: string; ts: number; dur?: number; pid: number; tid: number; args?: { name?: string } }>;
    };
    const components = trace.traceEvents.filter((e) => e.ph === "X" && e.cat === "component");
    expect(components.map((e) => e.name).sort()).toEqual([...COMPILED].sort());
    for (const event of components) {
      expect(event.dur).toBeGreaterThan(0);
      const lane = trace.traceEvents.find((m) => m.ph === "M" && m.name === "thread_name" && m.pid === event.pid && m.tid === event.tid);
      expect(lane?.args?.name).toBe(`builder ${compiled.find((c) => c.name === event.name)?.builder}`);
      expect(trace.traceEvents.find((m) => m.ph === "M" && m.name === "process_name" && m.pid === event.pid)?.args?.name).toBe("engine default");
    }
    expect(trace.traceEvents.filter((e) => e.ph === "X" && e.cat === "phase").map((e) => e.name)).toEqual(
      expect.arrayContaining(["source", "plan", "buildbase", "builder", "collect", "final-image", "tag"]),
    );
  });

  it("a failing component while others compile: the others finish and are cached; the error names it with its log", async () => {
    const cacheDir = path.join(temp, "cache-failing");
    const failed = await build("failing", ["--cache-dir", cacheDir, "--backend", "onnxruntime:fail-on-purpose"], { expectExit: 1 });
    expect(failed.result.stderr).toContain("error: component 'onnxruntime' failed");
    expect(failed.result.stderr).toContain("error: fixture build failure in onnxruntime");
    expect(mostAtOnce(failed.report)).toBeGreaterThanOrEqual(2);
    const listed = JSON.parse((await runCli(["cache", "ls", "--cache-dir", cacheDir, "--json"], { tempDir: temp })).stdout) as Array<{
      component: { name: string };
    }>;
    expect(listed.map((e) => e.component.name).sort()).toEqual(["checksum", "core", "python"]);
  });
});

describe("several engines", () => {
  it("a build spread over two engines gives the files of a one-engine build; the final image is built on the first", async () => {
    const spread = await build("two-engines", ["--no-cache", "--engine", "default", "--engine", ENGINE2]);
    const engines = new Set(spread.report.components.filter((c) => c.status === "built").map((c) => c.engine));
    expect([...engines].sort()).toEqual(["default", ENGINE2]);
    expect(sameFiles(await imageFiles(spread.tag), await imageFiles(serial.tag))).toEqual([]);
    expect(await leftOnEngine(ENGINE2, spread.report.runId)).toEqual([]);
    expect(await leftOnEngine("default", spread.report.runId)).toEqual([]);
  });

  it("stopping the second engine mid-build: its components are retried on the first, with a warning; the image is correct", async () => {
    const tag = world.tag("engine-stops");
    const reportFile = path.join(temp, "engine-stops.json");
    const child = startCli(
      ["--preset", preset, ...world.args(), "--no-cache", "--engine", "default", "--engine", ENGINE2, "--tag", tag, "--json", "--report", reportFile],
      {
        tempDir: temp,
      },
    );
    let buffered = "";
    let stopped: Promise<unknown> | undefined;
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!stopped && buffered.includes(`"engine":"${ENGINE2}"`)) {
        // dockerd stops its API at once and kills the containers after their stop timeout
        stopped = readFile(`/var/run/${ENGINE2}.pid`, "utf8").then((pid) => process.kill(Number(pid), "SIGTERM"));
      }
    });
    try {
      const result = await child;
      expect(stopped, "a component was handed to the second engine").toBeDefined();
      await stopped;
      expect(result.exitCode, `${String(result.stdout)}\n${String(result.stderr)}`).toBe(0);
      const report = JSON.parse(await readFile(reportFile, "utf8")) as Report;
      expect(report.warnings).toContainEqual(
        expect.stringMatching(new RegExp(`^engine ${ENGINE2} failed \\(.*\\); its unfinished components are retried on default$`)),
      );
      expect(report.components.filter((c) => c.status === "built").every((c) => c.engine === "default")).toBe(true);
      expect(parseNdjson(String(result.stdout)).some((e) => e.type === "component-start" && e.engine === ENGINE2)).toBe(true);
      expect(sameFiles(await imageFiles(tag), await imageFiles(serial.tag))).toEqual([]);

      // Back up, the engine still has what the run could not remove; the next run there removes it.
      await execa("bash", [path.join(PROJECT_ROOT, "scripts", "setup-docker.sh")]);
      const next = await build("after-engine-stop", ["--cache-dir", path.join(temp, "cache-after-stop"), "--engine", ENGINE2, "--only", "checksum"]);
      expect(next.result.stdout).toContain(`removed what run ${report.runId} left on engine ${ENGINE2}`);
      expect(await leftOnEngine(ENGINE2, report.runId)).toEqual([]);
    } finally {
      await execa("bash", [path.join(PROJECT_ROOT, "scripts", "setup-docker.sh")]);
    }
  });
});
