import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { BuildError, errorMessage, UsageError } from "../../errors.js";
import { BUILD_PHASES, type BuildEvent } from "../../run/events.js";
import { runFailure } from "../../run/failure.js";
import { skippedPhase, timedPhase } from "../../run/phase.js";
import { PhaseHistory } from "../../run/phase-history.js";
import { runDirLayout, type RunDir } from "../../run/run-dir.js";
import { RunTally, type RunEnding } from "../../run/tally.js";
import { planCache, type CacheDecision } from "./cache-plan.js";
import { CleanupSteps, openRun, type BuildRunInput, type RunContext } from "./context.js";
import type { Plan, PlannedComponent } from "./plan.js";
import { planFor } from "./plan-for.js";
import { isCached, restoreHits, type RestoredComponent } from "./steps/cache-steps.js";
import { compileComponents, planCompile, type CompileResult } from "./steps/compile.js";
import { assembleInstallTree, buildFinalImage } from "./steps/final-image.js";
import { baseImagePhase } from "./steps/recipe-images.js";

export type { BuildRunInput } from "./context.js";

export interface BuildOutcome {
  /** The image built; none with --only, which compiles and caches components only. */
  image?: { tag: string; id: string };
  built: string[];
  cached: string[];
  workDir: string;
}

/**
 * The build strategy, in the README's four steps: plan (checkout, build.py --dryrun,
 * components); restore what the cache has; compile the rest, each component in its own builder
 * and cached as soon as it finishes; assemble the final image and tag it.
 */
export async function runBuild(input: BuildRunInput): Promise<BuildOutcome> {
  const { settings, signal } = input;
  const tally = new RunTally(input.emit, runDirLayout(settings.workDir).logs);
  const emit = tally.emit;
  emit({ type: "run-start", runId: settings.runId, preset: settings.preset.name, strategy: "build", phases: BUILD_PHASES, workDir: settings.workDir });
  const cleanup = new CleanupSteps();
  // The result event comes after the clean-up (removing containers and tags takes seconds on a
  // busy engine): the run's duration is all of its work.
  let ending: RunEnding | undefined;
  try {
    const run = await openRun({ ...input, emit }, cleanup);
    const firstEngine = run.engines[0]?.engine;

    // 1. Plan: checkout at the resolved commit, build.py --dryrun, the components.
    const { plan, resources } = await planFor(settings, run.runDir.checkout, emit, signal, firstEngine);
    const candidates = componentsAskedFor(plan, settings.only);

    // 2. Restore what the cache has (with --only, only look: no image is built).
    const fromCache = await useCache(run, plan, candidates);
    const toCompile = candidates.filter((c) => !fromCache.cached.has(c.name));
    if (settings.cachedOnly && toCompile.length) throw notInCache(toCompile, fromCache);

    // 3. Compile the rest, each component cached as soon as it finishes.
    const baseFromRecipe = plan.images.recipes.some((recipe) => recipe.name === "base");
    const request = { plan, components: toCompile, decisions: fromCache.decisions, jobs: resources.jobs, baseFromRecipe };
    const compilePlan = toCompile.length ? planCompile(run, request) : undefined;
    const buildsImage = settings.only.length === 0;
    const baseEngines = [...new Set([...(buildsImage && firstEngine ? [firstEngine] : []), ...(compilePlan?.enginesWithWork ?? [])])];
    await baseImagePhase(run, plan.images.recipes, baseEngines);
    // What the buildbase and builder phases cost, so a run that needs neither can say what it saved.
    const history = run.cache ? new PhaseHistory(settings.cacheDir) : undefined;
    const historyKey = PhaseHistory.key(plan.buildbaseDockerfile);
    let compiled: CompileResult = { parts: [] };
    if (compilePlan) {
      compiled = await compileComponents(run, request, compilePlan);
      await history
        ?.record(historyKey, { buildbaseMs: tally.phaseMs("buildbase"), builderOverheadMs: tally.builderOverheadMs() })
        .catch((error: unknown) => emit({ type: "warning", message: `could not record phase times: ${errorMessage(error)}` }));
    } else {
      const costs = await history?.estimate(historyKey);
      skippedPhase(emit, "buildbase", "nothing to compile", costs?.buildbaseMs);
      skippedPhase(emit, "builder", "nothing to compile", costs?.builderOverheadMs);
      skippedPhase(emit, "collect", "nothing to compile");
    }

    // 4. Assemble the install tree and the final image.
    let image: { tag: string; id: string } | undefined;
    if (buildsImage) {
      await assembleInstallTree(run, plan, compiled, { root: restoredRoot(run.runDir), components: fromCache.restored });
      image = await buildFinalImage(run, plan, settings.pull && !baseFromRecipe);
    } else {
      for (const phase of ["final-image", "tag"] as const) skippedPhase(emit, phase, "--only compiles and caches components, and builds no image");
    }
    await keepCacheTidy(run, fromCache.cached.size, toCompile.length);
    const sizeBytes = image && firstEngine ? (await firstEngine.inspectImage(image.tag, { signal }))?.size : undefined;
    ending = { status: "ok", ...(image ? { image: { ...image, sizeBytes } } : {}) };
    if (!settings.keepWorkDir) cleanup.add(() => removeBulkyRunFiles(run.runDir));
    return {
      ...(image ? { image } : {}),
      built: compiled.parts.map((p) => p.component.name),
      cached: [...fromCache.cached],
      workDir: run.runDir.root,
    };
  } catch (error) {
    const failed = runFailure(error, signal);
    ending = failed.ending;
    throw failed.failure;
  } finally {
    await cleanup.run(emit);
    if (ending) tally.finish(ending);
  }
}

/** The components this run builds: all of the plan's, or those named with --only (which must exist). */
function componentsAskedFor(plan: Plan, only: readonly string[]): PlannedComponent[] {
  const buildable = plan.components.filter((c) => c.action === "build");
  if (only.length === 0) return buildable;
  const known = buildable.filter((c) => c.kind !== "ci").map((c) => c.name);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length) {
    throw new UsageError(
      `--only ${unknown.join(", ")}: the preset builds no such component`,
      `its components: ${known.join(", ")} (\`triton-build plan --json\` lists them as fanOut)`,
    );
  }
  return buildable.filter((c) => only.includes(c.name));
}

interface FromCache {
  decisions: Map<string, CacheDecision>;
  restored: RestoredComponent[];
  /** Restored, or (with --only) found in the cache. */
  cached: Set<string>;
  /** Why an entry the decision counted on could not be used. */
  missed: Map<string, string>;
}

function restoredRoot(runDir: RunDir): string {
  // Outside the Docker build context: the buildbase image must not carry restored files.
  return path.join(runDir.root, "restored", "install");
}

/**
 * Cache keys for every component, the plan event (complete once the cache has been asked, so it
 * comes before anything is restored), and the hits restored (local first, then the remote cache).
 */
async function useCache(run: RunContext, plan: Plan, candidates: readonly PlannedComponent[]): Promise<FromCache> {
  const { settings, cache, emit, signal } = run;
  const result: FromCache = { decisions: new Map(), restored: [], cached: new Set(), missed: new Map() };
  const announce = (restoring: boolean) => emit(planEvent(plan, candidates, result, restoring));
  if (!cache) {
    announce(false);
    skippedPhase(emit, "restore", "--no-cache");
    return result;
  }
  const keys = async () => {
    const all = await planCache(plan, cache.local, {
      offline: settings.offline,
      pull: settings.pull,
      signal,
      onWarning: (message) => emit({ type: "warning", message }),
      ...(run.engines[0] ? { engine: run.engines[0].engine } : {}),
    });
    return new Map([...all].filter(([name]) => candidates.some((c) => c.name === name)));
  };
  if (settings.ciImage) {
    result.decisions = await keys();
    announce(false);
    // The CI section copies from other components' build dirs, which a restore does not recreate.
    skippedPhase(emit, "restore", "--ci-image builds every component (results are still cached)");
    return result;
  }
  const access = { cache, report: run.cacheReport, emit };
  await timedPhase(emit, "restore", async () => {
    result.decisions = await keys();
    if (settings.only.length) {
      // --only: whether each is in the cache already is enough; nothing is restored.
      const found = new Map<string, "local" | "remote">();
      for (const decision of result.decisions.values()) {
        const source = await isCached(access, decision, signal);
        if (source) found.set(decision.name, source);
      }
      for (const name of found.keys()) result.cached.add(name);
      announce(false);
      for (const [name, source] of found) {
        const savedMs = result.decisions.get(name)?.lastBuildMs;
        emit({ type: "component-cached", name, restoreMs: 0, source, savedMs });
      }
      return;
    }
    announce(true);
    const restore = await restoreHits(access, result.decisions, restoredRoot(run.runDir), signal);
    result.restored = restore.restored;
    result.missed = restore.missed;
    for (const component of restore.restored) result.cached.add(component.name);
  });
  return result;
}

/**
 * The plan event: every component with what this run means to do with it. `restoring`: local
 * hits are announced as cached (a bad entry is compiled instead, and a remote hit is restored
 * although announced as build: `component-cached` says what was restored).
 */
function planEvent(plan: Plan, candidates: readonly PlannedComponent[], fromCache: FromCache, restoring: boolean): Extract<BuildEvent, { type: "plan" }> {
  return {
    type: "plan",
    source: { url: plan.source.url, ref: plan.source.ref, commit: plan.source.commit },
    buildpyCommand: plan.buildpy.command,
    components: plan.components.map((c) => {
      const decision = fromCache.decisions.get(c.name);
      const asked = candidates.includes(c);
      const cached = asked && (fromCache.cached.has(c.name) || (restoring && decision?.hit === true));
      const action = cached ? "cached" : asked ? c.action : "skip";
      const reason = c.reason ?? (!asked ? "not asked for (--only)" : decision && !cached ? `cache miss: ${decision.reason}` : undefined);
      return { name: c.name, kind: c.kind, ...(c.tag ? { tag: c.tag } : {}), action, ...(reason ? { reason } : {}) };
    }),
  };
}

/** --cached-only: every component must come from the cache; each missing one is named. */
function notInCache(missing: readonly PlannedComponent[], fromCache: FromCache): BuildError {
  const described = missing.map((c) => {
    const decision = fromCache.decisions.get(c.name);
    const key = decision?.key ? `key ${decision.key.slice(0, 12)}` : "no key";
    return `${c.name} (${key}: ${fromCache.missed.get(c.name) ?? decision?.reason ?? "not looked up"})`;
  });
  return new BuildError(`--cached-only: ${missing.length} component(s) not in the cache: ${described.join("; ")}`, {
    component: missing[0]?.name ?? "cache",
    hint: "run the `build --only COMPONENT` jobs first (with --remote-cache and --remote-cache-mode readwrite), or build without --cached-only",
  });
}

async function keepCacheTidy(run: RunContext, hits: number, misses: number): Promise<void> {
  const { cache, settings, emit } = run;
  if (!cache) return;
  await cache.local.recordRun({ preset: settings.preset.name, hits, misses }).catch(() => undefined);
  if (settings.cacheMaxBytes === undefined) return;
  const pruned = await cache.local.prune({ maxBytes: settings.cacheMaxBytes });
  if (pruned.removed.length) emit({ type: "info", message: `cache pruned to cacheMaxSize: ${pruned.removed.length} least recently used entries removed` });
}

/** After success the checkout and install tree can be large; logs stay for the user. */
async function removeBulkyRunFiles(runDir: RunDir): Promise<void> {
  await rm(runDir.checkout, { recursive: true, force: true });
  for (const entry of await readdir(runDir.root)) {
    if (entry === "scripts" || entry === "restored" || entry === "parts" || entry.startsWith("recipe-")) {
      await rm(path.join(runDir.root, entry), { recursive: true, force: true });
    }
  }
}
