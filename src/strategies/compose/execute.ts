import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { COMPOSE_PHASE_TITLES, type Emit, type Phase } from "../../run/events.js";
import { timedPhase } from "../../run/phase.js";
import { openRunDir, runDirLayout, type RunDir } from "../../run/run-dir.js";
import { RunTally, type RunEnding } from "../../run/tally.js";
import type { BuildSettings } from "../../run/settings.js";
import { buildImageWithLog } from "../../run/image-phase.js";
import { dockerEngine } from "../../docker/engine.js";
import { inspectImage, tagImage, untagImage } from "../../docker/image.js";
import { removeDeadRuns, runLabels, takeLease } from "../../run/leftovers.js";
import { runNames } from "../../run/names.js";
import { runFailure } from "../../run/failure.js";
import { daemonInfo } from "../../docker/system.js";
import { composeDockerfile, planCompose, type ComposePlan } from "./plan.js";
import { checkLibraries, readSourceImages, requireOneRelease } from "./verify.js";

export const COMPOSE_PHASES: Phase[] = ["plan", "final-image", "checks", "tag"];
const composePhase = (phase: Phase) => ({ phase, title: COMPOSE_PHASE_TITLES[phase] });

export interface ComposeOutcome {
  image: { tag: string; id: string };
  workDir: string;
}

/**
 * The compose strategy: start from the published image that holds the preset's special backend,
 * copy every other component from a published image that holds it, then check that all sources
 * are one release and that every copied library resolves its dependencies in the result.
 */
export async function runCompose(input: { settings: BuildSettings; emit: Emit; signal: AbortSignal }): Promise<ComposeOutcome> {
  const { settings, signal } = input;
  const tally = new RunTally(input.emit, runDirLayout(settings.workDir).logs);
  const emit = tally.emit;
  const tempTag = runNames(settings.runId).compose;
  emit({ type: "run-start", runId: settings.runId, preset: settings.preset.name, strategy: "compose", phases: COMPOSE_PHASES, workDir: settings.workDir });
  let openedRunDir: RunDir | undefined;
  let endLease: (() => Promise<void>) | undefined;
  // The result event comes after the clean-up, so the run's duration is all of its work.
  let ending: RunEnding | undefined;
  try {
    // Inside the try: a missing daemon still ends the run with its result event and report.
    await daemonInfo({ signal });
    const runDir = await openRunDir(settings.workDir);
    openedRunDir = runDir;
    // What runs killed with -9 left on the engine goes; this run's own tag is found the same way.
    const engine = dockerEngine();
    await removeDeadRuns(engine, emit, signal);
    endLease = await takeLease(engine, runNames(settings.runId), settings.runId);
    const { plan, dockerfilePath } = await timedPhase(emit, composePhase("plan"), async () => {
      const plan = planCompose(settings.preset, settings);
      for (const message of plan.warnings) emit({ type: "warning", message });
      const dockerfile = composeDockerfile(plan, settings.preset);
      const dockerfilePath = path.join(runDir.root, "compose", "Dockerfile");
      await mkdir(path.dirname(dockerfilePath), { recursive: true });
      await writeFile(dockerfilePath, dockerfile);
      emit({ type: "phase-output", phase: "plan", line: `Dockerfile: ${dockerfilePath}` });
      const sources = await readSourceImages(plan, settings.pull, emit, signal);
      // Before the release check, so a report of a mismatch names the images and their ids.
      emit({
        type: "plan",
        components: [
          ...plan.inBase.map((c) => ({ name: c.name, kind: c.kind, action: "skip" as const, reason: `in the base image ${plan.base.image}` })),
          ...plan.copies.map((c) => ({ name: c.name, kind: c.kind, action: "build" as const, reason: `copied from ${c.from.image}` })),
        ],
        compose: { dockerfile: dockerfilePath, sources },
      });
      const release = settings.preset.release;
      requireOneRelease(sources, { container: release.versions.container ?? release.release, triton: release.tritonVersion }, emit);
      return { plan, dockerfilePath };
    });

    const imageId = await timedPhase(emit, composePhase("final-image"), async () => {
      const copying = copyProgress(plan, emit);
      try {
        const id = await buildImageWithLog(
          // The sources were pulled (or not) and checked in the plan phase; pulling again here
          // could build from images other than the ones checked.
          { contextDir: path.dirname(dockerfilePath), dockerfile: dockerfilePath, tag: tempTag, pull: false },
          { phase: "final-image", logPath: path.join(runDir.logs, "compose-image.log"), what: "building the composed image", signal, emit: copying.emit },
        );
        copying.finish("ok");
        return id;
      } catch (error) {
        copying.finish("failed");
        throw error;
      }
    });

    await timedPhase(emit, composePhase("checks"), () => checkLibraries(plan, tempTag, settings.allowMissingLibs, emit, signal, runLabels(settings.runId)));

    await timedPhase(emit, composePhase("tag"), async () => {
      await tagImage(tempTag, settings.tag, { signal });
      emit({ type: "phase-output", phase: "tag", line: settings.tag });
    });
    const sizeBytes = (await inspectImage(settings.tag, { signal }))?.size;
    ending = { status: "ok", image: { tag: settings.tag, id: imageId, sizeBytes } };
    return { image: { tag: settings.tag, id: imageId }, workDir: runDir.root };
  } catch (error) {
    const failed = runFailure(error, signal);
    ending = failed.ending;
    throw failed.failure;
  } finally {
    try {
      await untagImage(tempTag).catch(() => undefined);
      await endLease?.().catch(() => undefined);
      await openedRunDir?.release();
    } finally {
      if (ending) tally.finish(ending);
    }
  }
}

/** Maps the build's `COPY --from=... /opt/tritonserver/<dir>/<name>` steps to component events. */
function copyProgress(plan: ComposePlan, emit: Emit): { emit: Emit; finish: (status: "ok" | "failed") => void } {
  let current: { name: string; startedAt: number } | undefined;
  const end = (status: "ok" | "failed" = "ok") => {
    if (current) emit({ type: "component-end", name: current.name, status, durationMs: performance.now() - current.startedAt });
    current = undefined;
  };
  return {
    emit: (event) => {
      if (event.type === "phase-output" && event.step) {
        end();
        const copy = plan.copies.find((c) => event.line.includes(`COPY --from=`) && event.line.includes(` ${c.path} `));
        if (copy) {
          current = { name: copy.name, startedAt: performance.now() };
          emit({ type: "component-start", name: copy.name });
        }
      }
      emit(event);
    },
    finish: end,
  };
}
