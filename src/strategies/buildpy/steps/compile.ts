import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { shellQuote } from "../../../buildpy/argv.js";
import { withJobCount } from "../../../buildpy/jobs.js";
import { rewriteCmakeBuild } from "../../../buildpy/rewrite.js";
import { DEFAULT_ENGINE, type DockerEngine } from "../../../docker/engine.js";
import { BuildError, errorMessage, InterruptedError } from "../../../errors.js";
import { buildImageWithLog } from "../../../run/image-phase.js";
import { runLabels } from "../../../run/leftovers.js";
import { BUILDBASE_REPOSITORY, containerSafe } from "../../../run/names.js";
import { timedPhase } from "../../../run/phase.js";
import type { CacheDecision } from "../cache-plan.js";
import type { ConnectedEngine, RunContext } from "../context.js";
import type { Plan, PlannedComponent } from "../plan.js";
import { defaultJobs } from "../resources.js";
import { BuilderSlots, defaultBuilders, handOutOrder, isHeavy, jobShare, jobWeight, type Slot } from "../schedule.js";
import { builderScriptPath, runBuilder, type BuilderOutcome } from "./builder.js";
import { storeBuilt } from "./cache-steps.js";
import { withDockerignore } from "./docker-context.js";
import { requireGitLfsInImage } from "./git-lfs.js";
import { keepNewestCacheTags } from "./cache-tags.js";
import { NESTED_BIN_DIR, nestedDockerWrapper, removeNestedObjects } from "./nested-docker.js";

/**
 * Compiling what the cache did not have: the buildbase image on each engine that gets work, then
 * one builder container per component (all components in one with --ci-image, whose CI section
 * reads the others' build dirs), up to N at a time per engine. Each component's part of the
 * install tree is copied out as soon as it finishes and stored in the cache, so a failure or
 * Ctrl-C keeps everything that finished.
 */

const INSTALL_DIR = "/tmp/tritonbuild/install";
const CI_DIR = "/tmp/tritonbuild/ci";

export interface CompiledPart {
  component: PlannedComponent;
  /** The install tree its builder left, copied here: the component's roots are in it. */
  installRoot: string;
  durationMs: number;
}

export interface CompileResult {
  parts: CompiledPart[];
  /** --ci-image: build.py's CI artifacts dir, copied here. */
  ciRoot?: string;
}

export interface CompileRequest {
  plan: Plan;
  components: PlannedComponent[];
  decisions: ReadonlyMap<string, CacheDecision>;
  /** Compile jobs of the first engine (--jobs, or what fits it); other engines get what fits them. */
  jobs: number;
  /** Whether the base image is a local image built from a recipe (never pulled). */
  baseFromRecipe: boolean;
}

/** One builder's work: a component, or every component (`all`) with --ci-image. */
interface Job {
  name: string;
  components: PlannedComponent[];
  heavy: boolean;
  estimateMs?: number;
  attempts: number;
}

interface EngineWork extends ConnectedEngine {
  builders: number;
  /** Compile jobs this engine's builders share. */
  jobs: number;
}

interface Failure {
  component: string;
  message: string;
  logPath?: string;
  logTail: string[];
}

/** A job handed to a builder, and how it will end. */
interface Running {
  job: Job;
  slot: Slot;
  settled: Promise<JobOutcome>;
}

type JobOutcome = { kind: "ok" } | { kind: "stopped" } | { kind: "failed"; failure: Failure } | { kind: "engine-failed"; reason: string };

/** Who compiles what: the jobs, each engine's builders and compile jobs, and the engines that get work at the start. */
export interface CompilePlan {
  jobs: Job[];
  engines: EngineWork[];
  /** The engines the first jobs go to (each needs the base image and the buildbase image before it compiles). */
  enginesWithWork: DockerEngine[];
}

export function planCompile(run: RunContext, request: CompileRequest): CompilePlan {
  const jobs = jobsFor(run, request);
  const engines = engineWork(run, request, jobs);
  const slots = slotsFor(engines);
  const first = new Set<string>();
  for (const job of handOutOrder(jobs, builderCount(engines))) {
    const slot = slots.take(job);
    if (!slot) break;
    first.add(slot.engine);
  }
  return { jobs, engines, enginesWithWork: engines.filter((e) => first.has(e.engine.name)).map((e) => e.engine) };
}

export async function compileComponents(run: RunContext, request: CompileRequest, planned: CompilePlan): Promise<CompileResult> {
  const { emit } = run;
  const compiler = new Compiler(run, request, planned.engines);
  // The buildbase image does not need `build/`; leaving it out of the context keeps it the same
  // for every preset and run of a commit, so Docker's layer cache holds.
  return withDockerignore(request.plan.checkoutDir, ["build/"], async () => {
    await timedPhase(emit, "buildbase", () => compiler.buildbaseOnEach(planned.enginesWithWork));
    let failures: Failure[] = [];
    let unexpected: { error: unknown } | undefined;
    try {
      ({ failures } = await timedPhase(
        emit,
        "builder",
        () => compiler.runJobs(planned.jobs),
        (result) => (run.signal.aborted ? "interrupted" : result.failures.length ? failureError(result.failures, run).message : undefined),
      ));
    } catch (error) {
      unexpected = { error };
    }
    // Whatever ended the builders, what finished is stored before the run goes on or ends.
    const kept = await timedPhase(emit, "collect", () => compiler.finishStores());
    if (run.signal.aborted) throw interruptedKeeping(run, kept);
    if (unexpected) throw unexpected.error;
    if (failures.length) throw failureError(failures, run);
    return { parts: compiler.parts, ...(compiler.ciRoot ? { ciRoot: compiler.ciRoot } : {}) };
  });
}

function jobsFor(run: RunContext, request: CompileRequest): Job[] {
  const estimate = (name: string) => request.decisions.get(name)?.lastBuildMs;
  if (run.settings.ciImage) {
    return [{ name: "all", components: request.components, heavy: request.components.some((c) => isHeavy(c.name)), attempts: 1 }];
  }
  return request.components.map((component) => {
    const estimateMs = estimate(component.name);
    return { name: component.name, components: [component], heavy: isHeavy(component.name), estimateMs, attempts: 1 };
  });
}

/** Builders and compile jobs of each engine, said once per engine. */
function engineWork(run: RunContext, request: CompileRequest, jobs: Job[]): EngineWork[] {
  const engines = run.settings.ciImage ? run.engines.slice(0, 1) : run.engines;
  const heavy = jobs.some((job) => job.heavy);
  return engines.map((connected, index) => {
    const cpus = connected.info.cpus ?? 1;
    const memoryBytes = connected.info.memoryBytes ?? 0;
    let builders: number;
    let reason: string;
    if (run.settings.ciImage) {
      builders = 1;
      reason = `one builder compiles every component (--ci-image: the CI section reads the others' build dirs)`;
    } else if (run.settings.parallel !== undefined) {
      builders = run.settings.parallel;
      reason = `${builders} builder(s) at a time on engine ${connected.engine.name}, from --parallel`;
    } else {
      ({ builders, reason } = defaultBuilders({ name: connected.engine.name, cpus, memoryBytes }, jobs.length, heavy));
    }
    const jobsHere = index === 0 || run.settings.jobs !== undefined ? request.jobs : defaultJobs(cpus, memoryBytes, heavy).jobs;
    run.emit({ type: "info", message: `${reason}; they share ${jobsHere} compile job(s)` });
    return { ...connected, builders, jobs: jobsHere };
  });
}

class Compiler {
  readonly parts: CompiledPart[] = [];
  ciRoot: string | undefined;
  private readonly stores: Array<Promise<{ name: string; stored: boolean }>> = [];
  private readonly buildbases = new Map<string, Promise<void>>();
  /** Every engine's builders; an engine that failed is retired there and gets no more work. */
  private readonly slots: BuilderSlots;

  constructor(
    private readonly run: RunContext,
    private readonly request: CompileRequest,
    private readonly engines: EngineWork[],
  ) {
    this.slots = slotsFor(engines);
  }

  /**
   * The buildbase image on each engine that gets work, at the same time. An engine that fails
   * meanwhile is left out with a warning (its work goes elsewhere); a failing build fails the run.
   */
  async buildbaseOnEach(engines: readonly DockerEngine[]): Promise<void> {
    const results = await Promise.allSettled(engines.map((engine) => this.buildbaseOn(engine)));
    let failure: { error: unknown } | undefined;
    for (const [index, result] of results.entries()) {
      if (result.status === "fulfilled") continue;
      const engine = engines[index] as DockerEngine;
      const down = this.run.signal.aborted ? undefined : await this.movableProblem(engine);
      if (down) this.engineFailed(engine.name, down);
      else failure ??= { error: result.reason };
    }
    if (failure) throw failure.error;
  }

  /** The run's buildbase image on an engine, built once (also for an engine that takes over work). */
  buildbaseOn(engine: DockerEngine): Promise<void> {
    let built = this.buildbases.get(engine.name);
    if (!built) {
      built = this.buildBuildbase(engine);
      this.buildbases.set(engine.name, built);
    }
    return built;
  }

  private async buildBuildbase(engine: DockerEngine): Promise<void> {
    const { run, request } = this;
    const { names } = run;
    run.onCleanup(() => (this.slots.isRetired(engine.name) ? Promise.resolve() : engine.untagImage(names.buildbase)));
    // What backends' own docker commands made on this engine under the run's names (nested-docker.ts).
    run.onCleanup(() => (this.slots.isRetired(engine.name) ? Promise.resolve() : removeNestedObjects(engine, run.settings.runId)));
    const suffix = engine.name === DEFAULT_ENGINE ? "" : `-${containerSafe(engine.name)}`;
    await buildImageWithLog(
      {
        contextDir: request.plan.checkoutDir,
        dockerfile: path.join(run.runDir.buildDir, "Dockerfile.buildbase"),
        tag: names.buildbase,
        pull: run.settings.pull && !request.baseFromRecipe,
      },
      {
        phase: "buildbase",
        logPath: path.join(run.runDir.logs, `buildbase${suffix}.log`),
        what: `building the buildbase image${engine.name === DEFAULT_ENGINE ? "" : ` on engine ${engine.name}`}`,
        signal: run.signal,
        emit: run.emit,
        engine,
      },
    );
    // Only a speed-up for the next run: a failure to tag costs nothing else.
    await keepForNextRun(engine, names.buildbase, names.buildbaseCache(buildbaseContent(request.plan))).catch(() => undefined);
    if (request.components.some((c) => isHeavy(c.name)))
      await requireGitLfsInImage(engine, names.buildbase, request.plan.images.refs.base, { labels: runLabels(run.settings.runId), signal: run.signal });
  }

  /**
   * Hands the jobs out to the engines' builders, longest first, until all ran. A failing
   * component does not stop the others (--fail-fast does); an engine that fails has its
   * unfinished components retried once on another engine.
   */
  async runJobs(jobs: Job[]): Promise<{ failures: Failure[] }> {
    const { run } = this;
    const { slots } = this;
    const queue = handOutOrder(jobs, builderCount(this.engines));
    const failFast = new AbortController();
    const signal = AbortSignal.any([run.signal, failFast.signal]);
    const running = new Set<Running>();
    const failures: Failure[] = [];
    let fatal: { error: unknown } | undefined;
    for (;;) {
      while (queue.length > 0 && !signal.aborted) {
        const job = queue[0] as Job;
        const slot = slots.take(job);
        if (!slot) break;
        queue.shift();
        const jobs = this.jobCount(job, slot, running, queue, slots);
        running.add({ job, slot, settled: this.compileJob(job, slot, jobs, signal) });
      }
      if (running.size === 0) break;
      const done = await Promise.race(
        [...running].map((entry) =>
          entry.settled.then(
            () => entry,
            () => entry,
          ),
        ),
      );
      running.delete(done);
      slots.release(done.slot);
      let outcome: JobOutcome;
      try {
        outcome = await done.settled;
      } catch (error) {
        // Not a component's failure: stop the others and report it once they ended.
        fatal ??= { error };
        failFast.abort(new InterruptedError("stopped"));
        continue;
      }
      if (outcome.kind === "failed") {
        failures.push(outcome.failure);
        if (run.settings.failFast && !failFast.signal.aborted) failFast.abort(new InterruptedError("stopped by --fail-fast"));
      } else if (outcome.kind === "engine-failed") {
        this.engineFailed(done.slot.engine, outcome.reason);
        if (done.job.attempts < 2 && slots.liveEngines().length > 0) queue.unshift({ ...done.job, attempts: done.job.attempts + 1 });
        else failures.push({ component: done.job.name, message: `engine ${done.slot.engine} failed (${outcome.reason})`, logTail: [] });
      }
    }
    if (fatal) throw fatal.error;
    if (!signal.aborted) {
      for (const job of queue) failures.push({ component: job.name, message: "no engine was left to compile it", logTail: [] });
    }
    return { failures };
  }

  /**
   * Why an engine cannot go on, when another could take its work; undefined when it answers, or
   * when it is the only engine left (then the component's own failure, with its log, is what to show).
   */
  private async movableProblem(engine: DockerEngine): Promise<string | undefined> {
    if (!this.slots.liveEngines().some((name) => name !== engine.name)) return undefined;
    return engineProblem(engine);
  }

  private engineFailed(engine: string, reason: string): void {
    if (this.slots.isRetired(engine)) return;
    this.slots.retire(engine);
    const others = this.slots.liveEngines();
    this.run.emit({
      type: "warning",
      message: `engine ${engine} failed (${reason}); ${others.length ? `its unfinished components are retried on ${others.join(", ")}` : "no other engine is left"}`,
    });
  }

  /**
   * Compile jobs for a component starting now: its engine's budget shared by weight with the
   * builders that run there together (those running, and those about to start on free builders).
   */
  private jobCount(job: Job, slot: Slot, running: ReadonlySet<Running>, queue: readonly Job[], slots: BuilderSlots): number {
    const engine = this.engines.find((e) => e.engine.name === slot.engine);
    const budget = engine?.jobs ?? this.request.jobs;
    if (job.name === "all") return budget;
    const together = [...running].filter((r) => r.slot.engine === slot.engine).map((r) => jobWeight(r.job));
    for (const next of queue.slice(0, slots.freeOn(slot.engine))) together.push(jobWeight(next));
    return jobShare(budget, jobWeight(job), together);
  }

  /** One job on one builder: compile, keep what finished, remove the container. */
  private async compileJob(job: Job, slot: Slot, jobs: number, signal: AbortSignal): Promise<JobOutcome> {
    const { run, request } = this;
    const work = this.engines.find((e) => e.engine.name === slot.engine) as EngineWork;
    const { engine } = work;
    try {
      await this.buildbaseOn(engine);
    } catch (error) {
      const down = signal.aborted ? undefined : await this.movableProblem(engine);
      if (down) return { kind: "engine-failed", reason: down };
      throw error;
    }
    const container = run.names.builder(job.name);
    // The clean-up removes the builder when this job could not (a docker call costs seconds on a busy engine).
    let removed = false;
    run.onCleanup(() => (removed || this.slots.isRetired(engine.name) ? Promise.resolve() : engine.removeContainer(container)));
    const nonce = randomBytes(8).toString("hex");
    const byName = new Map(job.components.map((c) => [c.name, c]));
    const script = rewriteCmakeBuild(request.plan.cmakeBuild, {
      build: new Set(byName.keys()),
      nonce,
      transformSection: (section) => withJobCount(byName.get(section.name)?.lines ?? section.lines, jobs),
      // Backends' own Docker objects get names of this run and component (nested-docker.ts).
      prelude: [`export PATH="${NESTED_BIN_DIR}:$PATH"`],
      sectionPrelude: (section) => [`export TRITON_BUILD_COMPONENT=${shellQuote([section.name])}`],
    });
    let outcome: BuilderOutcome;
    try {
      outcome = await runBuilder({
        engine,
        builder: slot.builder,
        containerName: container,
        image: run.names.buildbase,
        script,
        scriptPath: builderScriptPath(run.runDir.scripts, job.name),
        tools: { [`${NESTED_BIN_DIR}/docker`]: nestedDockerWrapper({ runId: run.settings.runId, labels: runLabels(run.settings.runId) }) },
        toolsDir: path.join(run.runDir.scripts, `tools-${job.name}`),
        nonce,
        tty: run.settings.interactive,
        logDir: run.runDir.logs,
        labels: runLabels(run.settings.runId),
        everyLine: run.settings.verbose,
        signal,
        emit: run.emit,
      });
    } catch (error) {
      if (signal.aborted) return { kind: "stopped" };
      const down = await this.movableProblem(engine);
      if (down) return { kind: "engine-failed", reason: down };
      throw error;
    }
    const stopped = outcome.exitCode === undefined;
    let broken = !stopped && (outcome.exitCode !== 0 || outcome.unfinished !== undefined) ? await this.movableProblem(engine) : undefined;
    if (!broken) {
      try {
        await this.keepFinished(job, outcome, engine, container, stopped, signal);
      } catch (error) {
        // The engine can go away after its builder ended and before its work was copied out.
        broken = signal.aborted ? undefined : await this.movableProblem(engine);
        if (!broken) throw error;
      }
    }
    removed = await engine.removeContainer(container).then(
      () => true,
      () => false,
    );

    const { unfinished } = outcome;
    if (unfinished) {
      const durationMs = Date.now() - unfinished.startedAt;
      const status = stopped || broken ? "interrupted" : "failed";
      const detail = broken ? `engine ${engine.name} failed` : stopped && !run.signal.aborted ? "stopped: another component failed (--fail-fast)" : undefined;
      run.emit({ type: "component-end", name: unfinished.name, status, durationMs, logPath: unfinished.logPath, ...(detail ? { detail } : {}) });
    }
    if (stopped) return { kind: "stopped" };
    if (broken) return { kind: "engine-failed", reason: broken };
    if (outcome.exitCode === 0 && !unfinished) return { kind: "ok" };
    return {
      kind: "failed",
      failure: {
        component: unfinished?.name ?? job.name,
        message: `exit code ${outcome.exitCode}`,
        logPath: unfinished?.logPath ?? path.join(run.runDir.logs, "builder.log"),
        logTail: unfinished?.tail ?? outcome.builderLogTail,
      },
    };
  }

  /**
   * Copies the install tree of the components that finished out of the builder and stores each
   * in the cache at once. After Ctrl-C this still runs (the builder was killed first): only with
   * a cache to keep them in.
   */
  private async keepFinished(job: Job, outcome: BuilderOutcome, engine: DockerEngine, container: string, stopped: boolean, signal: AbortSignal): Promise<void> {
    const { run } = this;
    const finished = outcome.finished.filter((f) => job.components.some((c) => c.name === f.name));
    if (finished.length === 0 || (stopped && !run.cache)) return;
    const partDir = path.join(run.runDir.root, "parts", job.name);
    await rm(partDir, { recursive: true, force: true });
    const copyOptions = stopped ? {} : { signal };
    const found = await engine.copyOut(container, INSTALL_DIR, partDir, copyOptions);
    const installRoot = path.join(partDir, "install");
    if (!found) {
      if (job.name === "all" && !stopped) throw new BuildError(`the builder finished but left no ${INSTALL_DIR}`, { component: "collect" });
      await mkdir(installRoot, { recursive: true });
    }
    if (job.name === "all" && run.settings.ciImage && !stopped && outcome.exitCode === 0) {
      if (await engine.copyOut(container, CI_DIR, partDir, copyOptions)) this.ciRoot = path.join(partDir, "ci");
    }
    for (const done of finished) {
      const component = job.components.find((c) => c.name === done.name) as PlannedComponent;
      this.parts.push({ component, installRoot, durationMs: done.durationMs });
      if (!run.cache) continue;
      const access = { cache: run.cache, report: run.cacheReport, emit: run.emit };
      this.stores.push(
        storeBuilt(access, component, this.request.decisions.get(component.name), { installRoot, durationMs: done.durationMs }, run.signal).then((result) => ({
          name: component.name,
          stored: result === "stored",
        })),
      );
    }
  }

  /** Waits for the stores still going; returns the components now in the cache. */
  async finishStores(): Promise<string[]> {
    if (this.run.signal.aborted && this.stores.length) {
      this.run.emit({ type: "info", message: "keeping the components that finished: storing them in the cache (Ctrl-C again to quit at once)" });
    }
    const results = await Promise.all(this.stores);
    this.run.emit({ type: "phase-output", phase: "collect", line: `${this.parts.length} compiled component(s) collected` });
    return results.filter((r) => r.stored).map((r) => r.name);
  }
}

/** What a buildbase image is made of: its Dockerfile (base image included) and the checkout's commit. */
function buildbaseContent(plan: Plan): string {
  return createHash("sha256").update(`${plan.source.commit}\n${plan.buildbaseDockerfile}`).digest("hex").slice(0, 16);
}

/**
 * Tags the run's buildbase image for the next run's layer cache, and untags (without pruning their
 * parent layers) all but the newest few such tags on the engine.
 */
async function keepForNextRun(engine: DockerEngine, image: string, cacheTag: string): Promise<void> {
  await engine.tagImage(image, cacheTag);
  await keepNewestCacheTags(engine, BUILDBASE_REPOSITORY, [cacheTag]);
}

/** Why an engine cannot work any more, or undefined when it answers. */
function slotsFor(engines: readonly EngineWork[]): BuilderSlots {
  return new BuilderSlots(engines.map((e) => ({ name: e.engine.name, builders: e.builders, memoryBytes: e.info.memoryBytes ?? 0 })));
}

function builderCount(engines: readonly EngineWork[]): number {
  return engines.reduce((sum, e) => sum + e.builders, 0);
}

async function engineProblem(engine: DockerEngine): Promise<string | undefined> {
  try {
    await engine.info({ timeoutMs: 20_000 });
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

function failureError(failures: Failure[], run: RunContext): BuildError {
  const [first, ...others] = failures;
  const names = failures.map((f) => `'${f.component}'`);
  const message =
    failures.length === 1
      ? `component ${names[0]} failed (${first?.message})`
      : `${failures.length} components failed: ${failures.map((f) => `'${f.component}' (${f.message})`).join(", ")}`;
  return new BuildError(message, {
    component: first?.component ?? "builder",
    ...(first?.logPath ? { logPath: first.logPath } : {}),
    logTail: first?.logTail ?? [],
    others: others.map((f) => ({ component: f.component, logTail: f.logTail, ...(f.logPath ? { logPath: f.logPath } : {}) })),
    hint: run.cache
      ? "fix the cause shown in the log; components that finished were cached, so the next run resumes after them"
      : "fix the cause shown in the log (with --no-cache, the next run builds every component again)",
  });
}

function interruptedKeeping(run: RunContext, kept: string[]): InterruptedError {
  const reason = run.signal.reason instanceof InterruptedError ? run.signal.reason.message : "interrupted";
  if (kept.length === 0) return new InterruptedError(reason);
  return new InterruptedError(
    `${reason}; ${kept.join(", ")} finished and ${kept.length === 1 ? "is" : "are"} in the cache, so the next run resumes after ${kept.length === 1 ? "it" : "them"}`,
  );
}
