import { describe, expect, it } from "vitest";
import { COMPOSE_PHASE_TITLES, PHASE_TITLES, type BuildEvent } from "../run/events.js";
import { EventHub } from "./event-hub.js";
import { createNdjsonRenderer } from "./ndjson.js";
import { createPlainRenderer } from "./plain.js";
import { ReportCollector } from "./report.js";

/** A result event with nothing tallied, for renderers that only look at a few fields. */
const result = (fields: Partial<Extract<BuildEvent, { type: "result" }>> & { status: "ok" | "failed" | "interrupted"; durationMs: number }): BuildEvent => ({
  type: "result",
  components: [],
  hits: 0,
  misses: 0,
  hitRatio: null,
  savedMs: 0,
  skippedPhases: [],
  ...fields,
});

const RUN: BuildEvent[] = [
  { type: "run-start", runId: "r1", preset: "p", strategy: "build", phases: ["source", "builder"], workDir: "/w" },
  {
    type: "plan",
    source: { url: "u", ref: "r24.05", commit: "c" },
    components: [
      { name: "core", kind: "core", action: "build" },
      { name: "python", kind: "backend", action: "cached" },
      { name: "ci", kind: "ci", action: "skip" },
    ],
  },
  { type: "phase-start", phase: "builder", title: "Compile components" },
  { type: "component-start", name: "core" },
  { type: "component-output", name: "core", line: "\u001b[32m[ 50%] colour from the tool\u001b[0m", percent: 50 },
  { type: "component-end", name: "core", status: "ok", durationMs: 1200, logPath: "/w/logs/core.log" },
  { type: "component-cached", name: "python", restoreMs: 30, savedMs: 5000, source: "local" },
  { type: "phase-end", phase: "builder", status: "ok", durationMs: 1500 },
  result({ status: "ok", durationMs: 1600, image: { tag: "t:1", id: "sha256:abc" } }),
];

describe("plain renderer", () => {
  it("prints timestamped lines without escape codes of its own", () => {
    const lines: string[] = [];
    const render = createPlainRenderer((l) => lines.push(l), { verbose: false });
    RUN.forEach(render);
    expect(lines.every((l) => /^\[\d\d:\d\d:\d\d\] /.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("\u001b");
    expect(lines.some((l) => l.endsWith("done   core in 1.2s"))).toBe(true);
    expect(lines.some((l) => l.includes("cached python (local, restored in 30ms, saved 5.0s of build time)"))).toBe(true);
  });

  it("with --verbose shows component output, with the tools' own colour codes removed", () => {
    const lines: string[] = [];
    RUN.forEach(createPlainRenderer((l) => lines.push(l), { verbose: true }));
    expect(lines.some((l) => l.endsWith("[core] [ 50%] colour from the tool"))).toBe(true);
    expect(lines.join("\n")).not.toContain("\u001b");
  });
});

describe("plain renderer, lines said once", () => {
  it("shows the source once, and docker's own step counter without a second one", () => {
    const lines: string[] = [];
    const render = createPlainRenderer((l) => lines.push(l.replace(/^\[[^\]]+\] /, "")), { verbose: false });
    render({ type: "phase-output", phase: "source", line: "u r24.05 at c" });
    render(RUN[1] as BuildEvent);
    render({ type: "phase-output", phase: "final-image", line: "Step 2/5 : COPY a b", step: { current: 2, total: 5 } });
    render({ type: "phase-output", phase: "final-image", line: "#5 [2/5] COPY a b", step: { current: 2, total: 5 } });
    render({ type: "phase-output", phase: "buildbase", line: "#5 [3/5] RUN make", step: { current: 3, total: 5 } });
    expect(lines.filter((l) => l.includes("r24.05"))).toEqual(["       u r24.05 at c"]);
    expect(lines).toContain("       Final image: Step 2/5 : COPY a b");
    expect(lines).toContain("       Build image (buildbase): step 3/5 #5 [3/5] RUN make");
  });
});

describe("phase titles", () => {
  const phase = (title: string): BuildEvent[] => [
    { type: "phase-start", phase: "plan", title },
    { type: "phase-output", phase: "plan", line: "step", step: { current: 1, total: 2 } },
    { type: "phase-end", phase: "plan", status: "ok", durationMs: 10 },
  ];

  it("compose titles its plan phase for what it does; build keeps build.py's", () => {
    expect(COMPOSE_PHASE_TITLES.plan).toBe("Plan and check the source images");
    expect(PHASE_TITLES.plan).toBe("build.py --dryrun and plan");
    expect(COMPOSE_PHASE_TITLES.tag).toBe(PHASE_TITLES.tag);
  });

  it("the plain renderer uses the title the run gave the phase", () => {
    const lines: string[] = [];
    phase(COMPOSE_PHASE_TITLES.plan).forEach(createPlainRenderer((l) => lines.push(l), { verbose: false }));
    expect(lines.join("\n")).not.toContain("build.py");
    expect(lines.some((l) => l.includes("       Plan and check the source images: step 1/2 step"))).toBe(true);
    expect(lines.some((l) => /done {3}Plan and check the source images in /.test(l))).toBe(true);
  });
});

describe("ndjson renderer", () => {
  it("writes one JSON object per line, leaving out component output unless verbose", () => {
    const lines: string[] = [];
    RUN.forEach(createNdjsonRenderer((l) => lines.push(l), { verbose: false }));
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((e) => e.type)).not.toContain("component-output");
    expect(parsed.every((e) => typeof e.time === "string")).toBe(true);
    const verbose: string[] = [];
    RUN.forEach(createNdjsonRenderer((l) => verbose.push(l), { verbose: true }));
    // JSON.stringify writes ESC as \u001b: look at the decoded strings, not the JSON text
    expect(
      verbose
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .flatMap((e) => Object.values(e))
        .join("\n"),
    ).not.toContain("\u001b");
    expect(verbose.some((l) => l.includes("component-output"))).toBe(true);
  });
});

describe("ReportCollector", () => {
  it("summarises components, phases and the result", () => {
    const collector = new ReportCollector();
    RUN.forEach(collector.listener);
    expect(collector.report).toMatchObject({
      runId: "r1",
      status: "ok",
      source: { commit: "c" },
      image: { tag: "t:1" },
      totalDurationMs: 1600,
      phases: [{ phase: "builder", status: "ok", durationMs: 1500 }],
    });
    expect(collector.report.components).toEqual([
      { name: "core", kind: "core", status: "built", durationMs: 1200, logPath: "/w/logs/core.log" },
      { name: "python", kind: "backend", status: "cached", restoreMs: 30, savedMs: 5000, cacheSource: "local" },
      { name: "ci", kind: "ci", status: "skipped" },
    ]);
  });
});

describe("compose in the report and the plain output", () => {
  const unresolved = {
    component: "tensorrt",
    kind: "backend",
    library: "/opt/tritonserver/backends/tensorrt/libtriton_tensorrt.so",
    missing: ["libnvinfer.so.10"],
    main: true,
  };
  const COMPOSE: BuildEvent[] = [
    { type: "run-start", runId: "r2", preset: "p", strategy: "compose", phases: ["plan", "checks"], workDir: "/w" },
    {
      type: "plan",
      components: [{ name: "tensorrt", kind: "backend", action: "build" }],
      compose: {
        dockerfile: "/w/compose/Dockerfile",
        sources: [
          { key: "trtllm", image: "trtllm:1", id: "sha256:0123456789abcdef", container: "24.05", triton: "2.46.0" },
          { key: "py3", image: "py3:1", id: "sha256:fedcba9876543210", container: "24.05" },
        ],
      },
    },
    { type: "libraries-checked", checked: 3, unresolved: [unresolved] },
    result({ status: "failed", durationMs: 5, error: "tensorrt cannot load", failedComponent: "checks" }),
  ];

  it("the report has the Dockerfile, the source images and the unresolved dependencies, structured", () => {
    const collector = new ReportCollector();
    COMPOSE.forEach(collector.listener);
    expect(collector.report.source).toBeUndefined();
    expect(collector.report.compose).toEqual({
      dockerfile: "/w/compose/Dockerfile",
      sources: [
        { key: "trtllm", image: "trtllm:1", id: "sha256:0123456789abcdef", container: "24.05", triton: "2.46.0" },
        { key: "py3", image: "py3:1", id: "sha256:fedcba9876543210", container: "24.05" },
      ],
      librariesChecked: 3,
      unresolved: [unresolved],
    });
  });

  it("the plain output names the images instead of an empty commit", () => {
    const lines: string[] = [];
    COMPOSE.forEach(createPlainRenderer((l) => lines.push(l), { verbose: false }));
    const text = lines.map((l) => l.replace(/^\[[\d:]+\] /, "")).join("\n");
    expect(text).not.toContain("source ");
    expect(text).toContain("base   trtllm:1 (0123456789ab, 24.05, Triton 2.46.0)\nfrom   py3:1 (fedcba987654, 24.05)\nDockerfile /w/compose/Dockerfile");
    expect(text).toContain("ldd checked 3 copied libraries: 1 with unresolved dependencies");
  });
});

describe("EventHub", () => {
  it("answers waits for past and future events and ends them when closed", async () => {
    const hub = new EventHub();
    hub.emit({ type: "phase-start", phase: "source", title: "s" });
    await expect(hub.next((e) => e.type === "phase-start")).resolves.toMatchObject({ phase: "source" });
    const future = hub.next((e) => e.type === "result");
    const never = hub.next((e) => e.type === "warning");
    hub.emit(result({ status: "ok", durationMs: 1 }));
    await expect(future).resolves.toMatchObject({ type: "result" });
    hub.close();
    await expect(never).resolves.toBeUndefined();
  });
});
