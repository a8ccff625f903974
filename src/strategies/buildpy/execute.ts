import { createHash, randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { shellQuote } from "../../buildpy/argv.js";
import { rewriteCmakeBuild } from "../../buildpy/rewrite.js";
import type { RemoteCache } from "../../cache/remote.js";
import { OciRemoteCache } from "../../cache/remote-oci.js";
import { LocalCache } from "../../cache/store.js";
import { CacheTiers } from "../../cache/tiers.js";
import { CacheEventReporter } from "../../run/cache-events.js";
import { removeContainer } from "../../docker/container.js";
import { copyOutOfContainer } from "../../docker/copy-out.js";
import { inspectImage, tagImage, untagImage } from "../../docker/image.js";
import { daemonInfo } from "../../docker/system.js";
import { BuildError, errorMessage } from "../../errors.js";
import { failRun } from "../../run/failure.js";
import { planCache, type CacheDecision } from "./cache-plan.js";
import { BUILD_PHASES, type BuildEvent, type Emit } from "../../run/events.js";
import { skippedPhase, timedPhase } from "../../run/phase.js";
import type { Plan, PlannedComponent } from "./plan.js";
import type { Preset } from "../../presets/model.js";
import { planFor } from "./plan-for.js";
import { openRunDir, pruneOldRuns, runDirLayout, type RunDir } from "../../run/run-dir.js";
import { RunTally } from "../../run/tally.js";
import { PhaseHistory } from "../../run/phase-history.js";
import type { BuildSettings } from "../../run/settings.js";
import { runBuilder, type BuilderOutcome } from "./steps/builder.js";
import { restoreHits, storeBuilt } from "./steps/cache-steps.js";
import { addReadWriteForAll, moveRestoredRoots, opensInstallTree } from "./steps/install-tree.js";
import { builderLabels, removeStaleBuilders } from "./steps/stale-builders.js";
import { withDockerignore } from "./steps/docker-context.js";
import { buildImageWithLog } from "../../run/image-phase.js";
import { buildRecipeImages } from "./steps/recipe-images.js";
import { NESTED_BIN_DIR, nestedDockerWrapper, removeNestedObjects } from "./steps/nested-docker.js";
import { requireGitLfsInImage } from "./steps/git-lfs.js";

export interface BuildRunInput {
  settings: BuildSettings;
  emit: Emit;
  signal: AbortSignal;
  /** The shared cache; by default the one settings name, over the docker CLI. */
  remoteCache?: RemoteCache;
}

export interface BuildOutcome {
  image: { tag: string; id: string };
  workDir: string;
}

/** Names of the Docker objects of one run: unique, so parallel runs on one daemon never collide. */
export function runNames(runId: string) {
  return {
    builder: `triton-build-builder-${runId}`,
    buildbase: `triton-build/buildbase:${runId}`,
    final: `triton-build/final:${runId}`,
    cibase: `triton-build/cibase:${runId}`,
  };
}

/**
 * The build strategy: plan, restore what the cache has, compile the rest in a builder
 * container, cache what was compiled, assemble and tag the final image.
 */
export async function runBuild(input: BuildRunInput): Promise<BuildOutcome> {
  const { settings, signal } = input;
  const tally = new RunTally(input.emit, runDirLayout(settings.workDir).logs);
  const emit = tally.emit;
  const names = runNames(settings.runId);
  emit({ type: "run-start", runId: settings.runId, preset: settings.preset.name, strategy: "build", phases: BUILD_PHASES, workDir: settings.workDir });
  const cleanup: Array<() => Promise<void>> = [];
  const cache = settings.noCache ? undefined : new LocalCache(settings.cacheDir);
  const remote = !cache
    ? undefined
    : (input.remoteCache ??
      (settings.remoteCache
        ? new OciRemoteCache(settings.remoteCache, settings.remoteCacheMode, { stallTimeoutMs: settings.remoteCacheStallTimeout * 1000 })
        : undefined));
  const tiers = cache ? new CacheTiers(cache, remote, settings.cacheSigningKey) : undefined;
  const report = new CacheEventReporter(emit, remote?.repository);
  let openedRunDir: RunDir | undefined;
  try {
    // Fail at once (exit 3) when there is no Docker daemon, not after the checkout and planning.
    await daemonInfo({ signal });
    const runDir = await openRunDir(settings.workDir);
    openedRunDir = runDir;
    await removeStaleBuilders(emit, (runId) => Object.values(runNames(runId)).filter((name) => name.endsWith(`:${runId}`)), signal);
    if (!settings.workDirGiven) await pruneOldRuns(path.dirname(settings.workDir)).catch(() => undefined);
    // Half-written entries of runs killed with -9 (possibly many GB): gone before this run adds more.
    await cache?.cleanTemp().catch(() => undefined);
    const { plan } = await planFor(settings, runDir.checkout, emit, signal);
    const installRoot = path.join(runDir.buildDir, "install");
    // Hits are restored outside the Docker build context (the buildbase image must not carry
    // them) and moved into the install tree once the compiled components are in.
    const restoredRoot = path.join(runDir.root, "restored", "install");
    const candidates = plan.components.filter((c) => c.action === "build");

    const { decisions, cached, restoredRoots } = await lookUpAndRestore({ settings, plan, cache: tiers, report, restoredRoot, emit, signal });
    const toBuild = candidates.filter((c) => !cached.has(c.name));

    await baseImagePhase(settings, plan, runDir, emit, signal);
    const history = cache ? new PhaseHistory(settings.cacheDir) : undefined;
    const historyKey = PhaseHistory.key(plan.buildbaseDockerfile);
    if (toBuild.length === 0) {
      const costs = await history?.estimate(historyKey);
      const reason = "nothing to compile";
      skippedPhase(emit, "buildbase", reason, costs?.buildbaseMs);
      skippedPhase(emit, "builder", reason, costs?.builderOverheadMs);
      skippedPhase(emit, "collect", reason);
    } else {
      const outcome = await compileComponents({ settings, plan, toBuild, runDir, names, emit, signal, cleanup });
      const builderFailed = Boolean(outcome.failed) || outcome.exitCode !== 0;
      const collect = collectAndStore({ settings, toBuild, outcome, builderFailed, decisions, cache: tiers, report, runDir, names, emit, signal });
      if (!builderFailed) await collect;
      else {
        // The builder's failure is what the user must see; collecting what finished is a bonus.
        await collect.catch((error: unknown) => emit({ type: "warning", message: `could not collect finished components: ${errorMessage(error)}` }));
        throw builderFailure(outcome, runDir, Boolean(cache));
      }
      await history
        ?.record(historyKey, { buildbaseMs: tally.phaseMs("buildbase"), builderOverheadMs: tally.builderOverheadMs() })
        .catch((error: unknown) => emit({ type: "warning", message: `could not record phase times: ${String((error as Error)?.message ?? error)}` }));
    }

    if (restoredRoots.length) {
      await moveRestoredRoots(restoredRoot, installRoot, restoredRoots);
      if (opensInstallTree(plan.cmakeBuild)) await addReadWriteForAll(installRoot);
    }
    const imageId = await buildFinalImages(settings, plan, runDir, names, emit, signal, cleanup);
    await timedPhase(emit, "tag", async () => {
      await tagImage(names.final, settings.tag, { signal });
      emit({ type: "phase-output", phase: "tag", line: settings.tag });
      if (settings.ciImage) await tagImage(names.cibase, `${settings.tag}-cibase`, { signal });
    });
    if (cache) {
      await cache.recordRun({ preset: settings.preset.name, hits: cached.size, misses: toBuild.length }).catch(() => undefined);
      if (settings.cacheMaxBytes !== undefined) {
        const pruned = await cache.prune({ maxBytes: settings.cacheMaxBytes });
        if (pruned.removed.length)
          emit({ type: "info", message: `cache pruned to cacheMaxSize: ${pruned.removed.length} least recently used entries removed` });
      }
    }
    const sizeBytes = (await inspectImage(settings.tag, { signal }))?.size;
    tally.finish({ status: "ok", image: { tag: settings.tag, id: imageId, ...(sizeBytes !== undefined ? { sizeBytes } : {}) } });
    if (!settings.keepWorkDir) cleanup.push(() => removeBulkyRunFiles(runDir));
    return { image: { tag: settings.tag, id: imageId }, workDir: runDir.root };
  } catch (error) {
    throw failRun(error, { tally, signal });
  } finally {
    // Clean-up runs even after Ctrl-C, so it must not use the aborted signal.
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => emit({ type: "warning", message: `clean-up: ${errorMessage(error)}` }));
    }
    await openedRunDir?.release();
  }
}

interface CacheContext {
  settings: BuildSettings;
  cache: CacheTiers | undefined;
  report: CacheEventReporter;
  emit: Emit;
  signal: AbortSignal;
}

/** Cache keys for every component, and the hits restored (local first, then the remote cache). */
async function lookUpAndRestore(context: CacheContext & { plan: Plan; restoredRoot: string }) {
  const { settings, plan, cache, report, restoredRoot, emit, signal } = context;
  let decisions = new Map<string, CacheDecision>();
  const cached = new Set<string>();
  const restoredRoots: string[] = [];
  const onWarning = (message: string) => emit({ type: "warning", message });
  if (!cache) {
    emit(planEvent(plan, decisions, false));
    skippedPhase(emit, "restore", "--no-cache");
  } else if (settings.ciImage) {
    decisions = await planCache(plan, cache.local, { offline: settings.offline, pull: settings.pull, signal, onWarning });
    emit(planEvent(plan, decisions, false));
    // The CI section copies from other components' build dirs, which a restore does not recreate.
    skippedPhase(emit, "restore", "--ci-image builds every component (results are still cached)");
  } else {
    await timedPhase(emit, "restore", async () => {
      decisions = await planCache(plan, cache.local, { offline: settings.offline, pull: settings.pull, signal, onWarning });
      // The plan is complete once the cache has been asked: announced before anything is restored.
      emit(planEvent(plan, decisions, true));
      for (const restored of await restoreHits({ decisions, cache, report, installRoot: restoredRoot, emit, signal })) {
        cached.add(restored.name);
        restoredRoots.push(...restored.roots);
      }
    });
  }
  return { decisions, cached, restoredRoots };
}

/** The plan event: every component with what this run means to do with it. */
function planEvent(plan: Plan, decisions: Map<string, CacheDecision>, restoring: boolean): Extract<BuildEvent, { type: "plan" }> {
  return {
    type: "plan",
    source: { url: plan.source.url, ref: plan.source.ref, commit: plan.source.commit },
    buildpyCommand: plan.buildpy.command,
    components: plan.components.map((c) => {
      const decision = decisions.get(c.name);
      const restore = restoring && c.action === "build" && decision?.hit === true;
      const reason = c.reason ?? (decision && !restore ? `cache miss: ${decision.reason}` : undefined);
      return { name: c.name, kind: c.kind, ...(c.tag ? { tag: c.tag } : {}), action: restore ? "cached" : c.action, ...(reason ? { reason } : {}) };
    }),
  };
}

/** Copies the install tree out of the builder container and caches every component that finished. */
function collectAndStore(
  context: CacheContext & {
    toBuild: PlannedComponent[];
    outcome: BuilderOutcome;
    builderFailed: boolean;
    decisions: Map<string, CacheDecision>;
    runDir: RunDir;
    names: ReturnType<typeof runNames>;
  },
): Promise<void> {
  const { settings, toBuild, outcome, builderFailed, decisions, cache, report, runDir, names, emit, signal } = context;
  const installRoot = path.join(runDir.buildDir, "install");
  return timedPhase(emit, "collect", async () => {
    const finished = new Set(outcome.finished.map((f) => f.name));
    const found = await copyOutOfContainer(names.builder, "/tmp/tritonbuild/install", runDir.buildDir, { signal });
    if (settings.ciImage && !builderFailed) await copyOutOfContainer(names.builder, "/tmp/tritonbuild/ci", runDir.buildDir, { signal });
    if (cache && found) {
      await storeBuilt({
        components: toBuild.filter((c) => finished.has(c.name)),
        outcome,
        decisions,
        cache,
        report,
        installRoot,
        emit,
        signal,
      });
    }
    if (!found && !builderFailed) throw new BuildError("the builder finished but left no /tmp/tritonbuild/install", { component: "collect" });
    emit({ type: "phase-output", phase: "collect", line: `${finished.size} compiled component(s) collected into ${installRoot}` });
  });
}

interface CompileContext {
  settings: BuildSettings;
  plan: Plan;
  toBuild: PlannedComponent[];
  runDir: RunDir;
  names: ReturnType<typeof runNames>;
  emit: Emit;
  signal: AbortSignal;
  cleanup: Array<() => Promise<void>>;
}

/**
 * Images from recipes (e.g. the TensorRT-LLM base) exist only on this daemon: build them first,
 * also when every component comes from the cache, because the final image starts FROM them.
 */
async function baseImagePhase(settings: BuildSettings, plan: Plan, runDir: RunDir, emit: Emit, signal: AbortSignal): Promise<void> {
  if (!plan.images.recipes.length) {
    skippedPhase(emit, "base-image", noRecipeReason(settings.preset));
    return;
  }
  await timedPhase(emit, "base-image", () =>
    buildRecipeImages(plan.images.recipes, {
      cacheDir: settings.cacheDir,
      offline: settings.offline,
      pull: settings.pull,
      workDir: runDir.root,
      logDir: runDir.logs,
      signal,
      emit,
    }),
  );
}

/** Why no image is built from a recipe: the preset names none, or `--image` replaced each. */
export function noRecipeReason(preset: Preset): string {
  const replaced = Object.entries(preset.images).flatMap(([name, spec]) =>
    spec?.kind === "ref" && spec.replacedRecipe
      ? [`--image ${name}=${spec.ref} replaces the preset's recipe (${spec.replacedRecipe.dockerfile} of ${spec.replacedRecipe.repo})`]
      : [],
  );
  return replaced.length ? replaced.join("; ") : "the preset names no image recipe";
}

/**
 * The newest buildbase image of one Dockerfile and server commit, kept tagged: removing a run's
 * only tag would delete the image's last layer too, and the next run's classic builder would redo
 * that step (a full copy of the image's file system on the vfs storage driver, about 1 s). One tag
 * per Dockerfile and commit, not one per daemon: runs of other presets or commits on the same
 * daemon would move a single tag away and cost each other that layer.
 */
export function buildbaseCacheTag(plan: Pick<Plan, "buildbaseDockerfile" | "source">): string {
  const hash = createHash("sha256").update(`${plan.source.commit}\n${plan.buildbaseDockerfile}`).digest("hex").slice(0, 16);
  return `triton-build/buildbase:cache-${hash}`;
}

/** `--pull` for images FROM the base, unless the base is a local image built from a recipe (no registry has it). */
function pullFor(settings: BuildSettings, plan: Plan): boolean {
  return settings.pull && !plan.images.recipes.some((recipe) => recipe.name === "base");
}

/** Buildbase image and the builder container; returns how the builder ended. */
async function compileComponents(context: CompileContext): Promise<BuilderOutcome> {
  const { settings, plan, toBuild, runDir, names, emit, signal, cleanup } = context;
  const pull = pullFor(settings, plan);
  await timedPhase(emit, "buildbase", async () => {
    cleanup.push(() => untagImage(names.buildbase));
    await withDockerignore(plan.checkoutDir, ["build/"], () =>
      buildImageWithLog(
        { contextDir: plan.checkoutDir, dockerfile: path.join(runDir.buildDir, "Dockerfile.buildbase"), tag: names.buildbase, pull },
        { phase: "buildbase", logPath: path.join(runDir.logs, "buildbase.log"), what: "building the buildbase image", signal, emit },
      ),
    );
    // Only a speed-up for the next run: a failure to tag costs nothing else.
    await tagImage(names.buildbase, buildbaseCacheTag(plan)).catch(() => undefined);
    if (toBuild.some((c) => c.name === "tensorrtllm")) await requireGitLfsInImage(names.buildbase, plan.images.refs.base, signal);
  });

  const nonce = randomBytes(8).toString("hex");
  return timedPhase(
    emit,
    "builder",
    async () => {
      cleanup.push(() => removeContainer(names.builder));
      cleanup.push(() => removeNestedObjects(settings.runId));
      const byName = new Map(toBuild.map((c) => [c.name, c]));
      const script = rewriteCmakeBuild(plan.cmakeBuild, {
        build: new Set(byName.keys()),
        nonce,
        transformSection: (section) => byName.get(section.name)?.lines ?? section.lines,
        // Backends' own Docker objects get names of this run and component (nested-docker.ts).
        prelude: [`export PATH="${NESTED_BIN_DIR}:$PATH"`],
        sectionPrelude: (section) => [`export TRITON_BUILD_COMPONENT=${shellQuote([section.name])}`],
      });
      const outcome = await runBuilder({
        containerName: names.builder,
        image: names.buildbase,
        script,
        tools: { [`${NESTED_BIN_DIR}/docker`]: nestedDockerWrapper({ runId: settings.runId, labels: builderLabels(settings.runId) }) },
        scriptDir: runDir.scripts,
        nonce,
        tty: settings.interactive,
        logDir: runDir.logs,
        labels: builderLabels(settings.runId),
        everyLine: settings.verbose,
        signal,
        emit,
      });
      return outcome;
    },
    (outcome) => (outcome.failed || outcome.exitCode !== 0 ? builderFailure(outcome, runDir, true).message : undefined),
  );
}

function builderFailure(outcome: BuilderOutcome, runDir: RunDir, cached: boolean): BuildError {
  const failed = outcome.failed;
  return new BuildError(
    failed ? `component '${failed.name}' failed (builder exit code ${outcome.exitCode})` : `the builder container exited with code ${outcome.exitCode}`,
    {
      component: failed?.name ?? "builder",
      logPath: failed?.logPath ?? path.join(runDir.logs, "builder.log"),
      logTail: failed?.tail ?? outcome.builderLogTail,
      hint: cached
        ? "fix the cause shown in the log; components that finished were cached, so the next run resumes after them"
        : "fix the cause shown in the log (with --no-cache, the next run builds every component again)",
    },
  );
}

async function buildFinalImages(
  settings: BuildSettings,
  plan: Plan,
  runDir: RunDir,
  names: ReturnType<typeof runNames>,
  emit: Emit,
  signal: AbortSignal,
  cleanup: Array<() => Promise<void>>,
): Promise<string> {
  return timedPhase(emit, "final-image", async () => {
    cleanup.push(() => untagImage(names.final));
    const id = await buildImageWithLog(
      { contextDir: plan.checkoutDir, dockerfile: path.join(runDir.buildDir, "Dockerfile"), tag: names.final, pull: pullFor(settings, plan) },
      { phase: "final-image", logPath: path.join(runDir.logs, "final-image.log"), what: "building the final image", signal, emit },
    );
    if (settings.ciImage) {
      cleanup.push(() => untagImage(names.cibase));
      await buildImageWithLog(
        { contextDir: plan.checkoutDir, dockerfile: path.join(runDir.buildDir, "Dockerfile.cibase"), tag: names.cibase, pull: pullFor(settings, plan) },
        { phase: "final-image", logPath: path.join(runDir.logs, "cibase-image.log"), what: "building the CI base image", signal, emit },
      );
    }
    return id;
  });
}

/** After success the checkout and install tree can be large; logs stay for the user. */
async function removeBulkyRunFiles(runDir: RunDir): Promise<void> {
  await rm(runDir.checkout, { recursive: true, force: true });
  for (const entry of await readdir(runDir.root)) {
    if (entry === "scripts" || entry === "restored" || entry.startsWith("recipe-")) await rm(path.join(runDir.root, entry), { recursive: true, force: true });
  }
}
