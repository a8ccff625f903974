// The executor's control flow against a fake Docker engine (test/helpers/fake-engine.ts), the only
// thing mocked: the plan is real (fixture server repository, its build.py --dryrun, git
// ls-remote against a fixture organisation) and so is the cache.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtureOrg, createFixtureServerRepo } from "../../../test/helpers/fixture-repo.js";
import { FakeEngine } from "../../../test/helpers/fake-engine.js";
import { LocalCache } from "../../cache/store.js";
import { newRunId } from "../../cli/settings.js";
import { BuildError, InterruptedError, UsageError } from "../../errors.js";
import { loadPreset } from "../../presets/load.js";
import type { BuildEvent } from "../../run/events.js";
import type { BuildSettings } from "../../run/settings.js";
import { runBuild } from "./execute.js";

let root: string;
let server: { path: string; commit: string };
let orgUrl: string;
let presetFile: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "tb-executor-"));
  server = await createFixtureServerRepo(path.join(root, "server"));
  ({ url: orgUrl } = await createFixtureOrg(path.join(root, "org")));
  presetFile = path.join(root, "preset.yaml");
  await writeFile(
    presetFile,
    'release: "24.05"\nimages:\n  base: fixture/base:24.05\nfeatures: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n',
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

const COMPONENTS = ["core", "python", "onnxruntime", "checksum"];

async function settingsFor(name: string, overrides: Partial<BuildSettings> = {}): Promise<BuildSettings> {
  const runId = newRunId(name);
  return {
    presetArg: presetFile,
    preset: await loadPreset(presetFile),
    sourceUrl: server.path,
    ref: "r24.05",
    cacheDir: path.join(root, "cache"),
    python: "python3",
    offline: false,
    pull: false,
    interactive: false,
    jobs: 4,
    githubOrganization: orgUrl,
    json: true,
    verbose: false,
    quiet: false,
    strategy: "build",
    ciImage: false,
    noCache: false,
    remoteCacheMode: "read",
    remoteCacheStallTimeout: 60,
    runId,
    workDir: path.join(root, "runs", runId),
    workDirGiven: true,
    tag: `fixture/result:${name}`,
    keepWorkDir: false,
    allowMissingLibs: false,
    engines: [],
    failFast: false,
    only: [],
    cachedOnly: false,
    ...overrides,
  };
}

interface Run {
  events: BuildEvent[];
  result?: Awaited<ReturnType<typeof runBuild>>;
  error?: unknown;
}

async function build(
  settings: BuildSettings,
  engines: FakeEngine[],
  options: { controller?: AbortController; onEvent?: (event: BuildEvent) => void } = {},
): Promise<Run> {
  const events: BuildEvent[] = [];
  const controller = options.controller ?? new AbortController();
  const run: Run = { events };
  const byName = new Map(engines.map((e) => [e.name, e]));
  try {
    run.result = await runBuild({
      settings,
      emit: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
      signal: controller.signal,
      connect: (name) => byName.get(name) ?? (engines[0] as FakeEngine),
    });
  } catch (error) {
    run.error = error;
  }
  return run;
}

const cachedNames = async (cacheDir: string) =>
  (await new LocalCache(cacheDir).list())
    .map((e) => e.manifest.component.name)
    .sort()
    .join(",");
const ended = (run: Run, status: string) =>
  run.events
    .filter((e): e is Extract<BuildEvent, { type: "component-end" }> => e.type === "component-end" && e.status === status)
    .map((e) => e.name)
    .sort();

describe("the executor's control flow (fake engine)", () => {
  it("all missing: one builder per component, each cached, nothing left on the engine; then all hit: no builder at all", async () => {
    const cacheDir = path.join(root, "cache-hit");
    const engine = new FakeEngine("default");
    const first = await build(await settingsFor("first", { cacheDir }), [engine]);
    expect(first.error).toBeUndefined();
    const runId = first.events.find((e) => e.type === "run-start")?.runId as string;
    expect(engine.created.sort()).toEqual(COMPONENTS.map((c) => `triton-build-builder-${runId}-${c}`).sort());
    // Four builders at once on 2 cores (two per core) share the 4 compile jobs: one each.
    for (const script of engine.scripts.values()) expect(script).toMatch(/cmake --build \. --config Release -j1\b/);
    expect(engine.containers.size).toBe(0);
    expect(engine.volumes.size).toBe(0);
    expect([...engine.images].filter((i) => i.includes(runId))).toEqual([]);
    expect(await cachedNames(cacheDir)).toBe("checksum,core,onnxruntime,python");
    expect(first.result?.image?.tag).toBe("fixture/result:first");
    expect(engine.images.has("fixture/result:first")).toBe(true);
    const starts = first.events.filter((e): e is Extract<BuildEvent, { type: "component-start" }> => e.type === "component-start");
    expect(starts.map((e) => `${e.engine}/${e.builder}`).sort()).toEqual(["default/1", "default/2", "default/3", "default/4"]);

    const again = new FakeEngine("default");
    const second = await build(await settingsFor("second", { cacheDir }), [again]);
    expect(second.error).toBeUndefined();
    expect(again.created).toEqual([]);
    expect(again.calls.filter((c) => c.startsWith("build "))).toEqual([`build triton-build/final:${second.events.find((e) => e.type === "run-start")?.runId}`]);
    expect(second.events.filter((e) => e.type === "component-cached").map((e) => (e as { name: string }).name)).toEqual(COMPONENTS);
    expect(second.result?.cached.sort()).toEqual([...COMPONENTS].sort());
  });

  it("--parallel 1: one component after another, each with every compile job, in the plan's order", async () => {
    const engine = new FakeEngine("default");
    const run = await build(await settingsFor("serial", { noCache: true, parallel: 1 }), [engine]);
    expect(run.error).toBeUndefined();
    const order = run.events.filter((e) => e.type === "component-start" || e.type === "component-end").map((e) => `${e.type}:${(e as { name: string }).name}`);
    expect(order).toEqual(COMPONENTS.flatMap((c) => [`component-start:${c}`, `component-end:${c}`]));
    for (const script of engine.scripts.values()) expect(script).toMatch(/-j4\b/);
  });

  it("a failing component: the others finish and are cached; the error names it with its log tail", async () => {
    const cacheDir = path.join(root, "cache-fail");
    const engine = new FakeEngine("default");
    engine.behaviour = { onnxruntime: "fail" };
    const run = await build(await settingsFor("fails", { cacheDir }), [engine]);
    expect(run.error).toBeInstanceOf(BuildError);
    expect((run.error as BuildError).message).toBe("component 'onnxruntime' failed (exit code 2)");
    expect((run.error as BuildError).logTail).toContain("error: fixture build failure in onnxruntime");
    expect(await cachedNames(cacheDir)).toBe("checksum,core,python");
    expect(ended(run, "failed")).toEqual(["onnxruntime"]);
    expect(engine.containers.size).toBe(0);
    expect(run.events.at(-1)).toMatchObject({ type: "result", status: "failed", failedComponent: "onnxruntime" });
  });

  it("two failing components: the error names both, each with its log", async () => {
    const engine = new FakeEngine("default");
    engine.behaviour = { onnxruntime: "fail", python: "fail" };
    const run = await build(await settingsFor("fails-two", { cacheDir: path.join(root, "cache-fail-two") }), [engine]);
    const error = run.error as BuildError;
    expect(error.message).toMatch(/^2 components failed: '(python|onnxruntime)' \(exit code 2\), '(python|onnxruntime)' \(exit code 2\)$/);
    expect([error.component, ...error.others.map((o) => o.component)].sort()).toEqual(["onnxruntime", "python"]);
    expect(error.others[0]?.logTail.join("\n")).toMatch(/fixture build failure/);
  });

  it("--fail-fast: a failure stops the builders still compiling", async () => {
    const engine = new FakeEngine("default");
    engine.behaviour = { onnxruntime: "fail", python: "hang" };
    // onnxruntime fails once python compiles and core and checksum have ended (all four builders
    // start together; on a loaded machine the quick ones may otherwise still be running)
    const pythonBegun = new Promise<void>((resolve) => (engine.onBegin = (name) => (name === "python" ? resolve() : undefined)));
    const quickOnes = new Set(["core", "checksum"]);
    let quickOnesEnded = (): void => undefined;
    const quickOnesDone = new Promise<void>((resolve) => (quickOnesEnded = resolve));
    engine.waitFor.onnxruntime = Promise.all([pythonBegun, quickOnesDone]);
    const onEvent = (event: BuildEvent) => {
      if (event.type === "component-end" && quickOnes.delete(event.name) && quickOnes.size === 0) quickOnesEnded();
    };
    const run = await build(await settingsFor("fail-fast", { noCache: true, failFast: true }), [engine], { onEvent });
    expect(ended(run, "ok")).toEqual(["checksum", "core"]);
    expect((run.error as BuildError).message).toBe("component 'onnxruntime' failed (exit code 2)");
    expect(ended(run, "interrupted")).toEqual(["python"]);
    expect(engine.containers.size).toBe(0);
  });

  it("Ctrl-C: compiling stops at once, a component that had just finished is still cached, and the next run reuses it", async () => {
    const cacheDir = path.join(root, "cache-interrupt");
    const engine = new FakeEngine("default");
    // core ends, and its builder is still running when Ctrl-C comes: it is stopped before it
    // exits, and core must still be copied out of it and stored
    engine.behaviour = { core: "end-then-hang", python: "hang", onnxruntime: "hang", checksum: "hang" };
    const controller = new AbortController();
    const settings = await settingsFor("interrupted", { cacheDir });
    const events: BuildEvent[] = [];
    const started = new Set<string>();
    let coreEnded = false;
    const running = runBuild({
      settings,
      emit: (event) => {
        events.push(event);
        if (event.type === "component-start") started.add(event.name);
        if (event.type === "component-end" && event.name === "core") coreEnded = true;
        if (coreEnded && started.size === 4 && !controller.signal.aborted) controller.abort(new InterruptedError("interrupted by SIGINT"));
      },
      signal: controller.signal,
      connect: () => engine,
    });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as Error).message).toBe("interrupted by SIGINT; core finished and is in the cache, so the next run resumes after it");
    expect(await cachedNames(cacheDir)).toBe("core");
    expect(
      events
        .filter((e) => e.type === "component-end" && e.status === "interrupted")
        .map((e) => (e as { name: string }).name)
        .sort(),
    ).toEqual(["checksum", "onnxruntime", "python"]);
    expect(engine.containers.size).toBe(0);
    expect(engine.calls.filter((c) => c.startsWith("kill "))).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: "result", status: "interrupted" });

    const next = await build(await settingsFor("resumed", { cacheDir }), [new FakeEngine("default")]);
    expect(next.error).toBeUndefined();
    expect(next.result?.cached).toEqual(["core"]);
    expect(next.result?.built.sort()).toEqual(["checksum", "onnxruntime", "python"]);
  });

  it("--ci-image: one builder compiles everything in order; Ctrl-C keeps what finished in it", async () => {
    const cacheDir = path.join(root, "cache-ci");
    const engine = new FakeEngine("default");
    engine.behaviour = { python: "hang" };
    const controller = new AbortController();
    const settings = await settingsFor("ci", { cacheDir, ciImage: true });
    const events: BuildEvent[] = [];
    const error = await runBuild({
      settings,
      emit: (event) => {
        events.push(event);
        if (event.type === "component-start" && event.name === "python") controller.abort(new InterruptedError("interrupted by SIGINT"));
      },
      signal: controller.signal,
      connect: () => engine,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("interrupted by SIGINT; core finished and is in the cache, so the next run resumes after it");
    expect(engine.created).toEqual([`triton-build-builder-${settings.runId}`]);
    expect(engine.scripts.get(`triton-build-builder-${settings.runId}`)).toMatch(/'begin' 'ci'/);
    expect(await cachedNames(cacheDir)).toBe("core");
    expect(engine.containers.size).toBe(0);
  });

  it("two engines: work spreads over both; an engine that goes down has its component retried on the other, with a warning", async () => {
    const a = new FakeEngine("a");
    const b = new FakeEngine("b", { cpus: 2, memoryBytes: 16 * 2 ** 30 });
    b.downWhenStarting.add("python");
    const run = await build(await settingsFor("engines", { noCache: true, engines: ["a", "b"], parallel: 2 }), [a, b]);
    expect(run.error).toBeUndefined();
    const where = run.events
      .filter((e): e is Extract<BuildEvent, { type: "component-start" }> => e.type === "component-start")
      .map((e) => `${e.name}@${e.engine}`);
    expect(where).toContain("python@b");
    expect(where).toContain("python@a");
    expect(where.filter((w) => w.endsWith("@b")).length).toBeGreaterThan(0);
    expect(run.events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message)).toContainEqual(
      expect.stringMatching(/^engine b failed \(.*engine b is down\); its unfinished components are retried on a$/),
    );
    // The final image is built on the first engine; the buildbase on each engine that got work.
    expect(a.calls.some((c) => c.startsWith("build triton-build/final:"))).toBe(true);
    expect(b.calls.some((c) => c.startsWith("build triton-build/buildbase:"))).toBe(true);
    expect(a.containers.size).toBe(0);
    // ONNX Runtime's nested build ran through its builder's docker wrapper, on that builder's
    // engine; what it made there under the run's names is gone (b is down: what is on it stays
    // for the next run there).
    const runId = run.events.find((e) => e.type === "run-start")?.runId as string;
    const ortOn = run.events.filter((e) => e.type === "component-start" && e.name === "onnxruntime").map((e) => (e as { engine: string }).engine);
    expect(ortOn).toEqual(["a"]);
    expect(a.nestedContainers).toEqual([`onnxruntime_backend_ort-${runId}-onnxruntime`]);
    expect(b.nestedContainers).toEqual([]);
    expect([...a.images].filter((i) => i.includes(runId))).toEqual([]);
  });

  it("--only compiles and caches just those and builds no image; --cached-only names each missing entry", async () => {
    const cacheDir = path.join(root, "cache-fanout");
    const engine = new FakeEngine("default");
    const only = await build(await settingsFor("only", { cacheDir, only: ["python", "core"] }), [engine]);
    expect(only.error).toBeUndefined();
    expect(only.result?.image).toBeUndefined();
    expect(only.result?.built.sort()).toEqual(["core", "python"]);
    expect(engine.calls.some((c) => c.startsWith("build triton-build/final:"))).toBe(false);
    expect(await cachedNames(cacheDir)).toBe("core,python");

    const missing = await build(await settingsFor("cached-only", { cacheDir, cachedOnly: true }), [new FakeEngine("default")]);
    expect(missing.error).toBeInstanceOf(BuildError);
    expect((missing.error as Error).message).toMatch(
      /^--cached-only: 2 component\(s\) not in the cache: onnxruntime \(key [0-9a-f]{12}: no entry\); checksum \(key [0-9a-f]{12}: no entry\)$/,
    );

    const unknown = await build(await settingsFor("only-unknown", { cacheDir, only: ["tensorflow"] }), [new FakeEngine("default")]);
    expect(unknown.error).toBeInstanceOf(UsageError);
  });

  it("the buildbase image stays tagged by what it is built from for the next runs; only the newest eight such tags are kept", async () => {
    const engine = new FakeEngine("default");
    for (let i = 0; i < 9; i++) engine.images.add(`triton-build/buildbase:cache-old${i}`);
    const run = await build(await settingsFor("buildbase-cache", { noCache: true }), [engine]);
    expect(run.error).toBeUndefined();
    const kept = [...engine.images].filter((i) => i.startsWith("triton-build/buildbase:cache-"));
    expect(kept).toHaveLength(8);
    expect(kept.filter((i) => !i.includes("old"))).toEqual([expect.stringMatching(/^triton-build\/buildbase:cache-[0-9a-f]{16}$/)]);
    expect(kept).not.toContain("triton-build/buildbase:cache-old0");
  });

  it("the nested builds' layer-cache tags (ONNX Runtime's) keep the newest eight per image too", async () => {
    const engine = new FakeEngine("default");
    for (let i = 0; i < 11; i++) engine.images.add(`triton-build/tritonserver_onnxruntime:cache-old${i}`);
    engine.images.add("triton-build/other_backend:cache-only");
    const settings = await settingsFor("nested-cache", { noCache: true });
    // This run's nested build reused the oldest one: the wrapper pointed cache-old0 at the run's image.
    const built = `triton-build/tritonserver_onnxruntime:${settings.runId}-onnxruntime`;
    engine.images.add(built);
    engine.imageIds.set("triton-build/tritonserver_onnxruntime:cache-old0", engine.imageIdOf(built));
    const run = await build(settings, [engine]);
    expect(run.error).toBeUndefined();
    const kept = [...engine.images].filter((i) => i.startsWith("triton-build/tritonserver_onnxruntime:cache-"));
    expect(kept).toEqual([0, 4, 5, 6, 7, 8, 9, 10].map((i) => `triton-build/tritonserver_onnxruntime:cache-old${i}`));
    expect(engine.images).not.toContain(built);
    expect(engine.images).toContain("triton-build/other_backend:cache-only");
  });

  it("a killed run's containers, tags and lease are removed by the next run on the engine", async () => {
    const engine = new FakeEngine("default");
    const deadRun = "20260101-000000-dead-abcdef";
    // What a run whose process is gone left: a lease, a builder, a buildbase tag.
    const labels = {
      "triton-build.run": deadRun,
      "triton-build.pid": "2147483646",
      "triton-build.host": (await import("../../util/process.js")).processHost(),
    };
    await engine.createVolume(`triton-build-run-${deadRun}`, labels);
    await engine.createContainer({ name: `triton-build-builder-${deadRun}-core`, image: "x", tty: false, command: [], labels });
    engine.images.add(`triton-build/buildbase:${deadRun}`);
    // ...and what its ONNX Runtime nested build made through the docker wrapper.
    await engine.createContainer({ name: `onnxruntime_backend_ort-${deadRun}-onnxruntime`, image: "x", tty: false, command: [], labels });
    engine.images.add(`triton-build/tritonserver_onnxruntime:${deadRun}-onnxruntime`);
    engine.images.add("triton-build/buildbase:cache-0123456789abcdef");
    const run = await build(await settingsFor("after-kill", { noCache: true }), [engine]);
    expect(run.error).toBeUndefined();
    expect(engine.volumes.size).toBe(0);
    expect(engine.containers.size).toBe(0);
    expect([...engine.images].filter((i) => i.includes(deadRun))).toEqual([]);
    expect(engine.images.has("triton-build/buildbase:cache-0123456789abcdef")).toBe(true);
    expect(run.events).toContainEqual(expect.objectContaining({ type: "info", message: expect.stringContaining(`removed what run ${deadRun} left`) }));
  });
});
