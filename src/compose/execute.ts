import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Emit, Phase } from "../build/events.js";
import { timedPhase } from "../build/phase.js";
import { openRunDir } from "../build/run-dir.js";
import type { BuildSettings } from "../build/settings.js";
import { buildImageWithLog } from "../build/steps/image-phase.js";
import { runOnce } from "../docker/container.js";
import { inspectImage, pullImage, tagImage, untagImage } from "../docker/image.js";
import { failRun } from "../build/failure.js";
import { daemonInfo } from "../docker/system.js";
import { BuildError, EnvironmentError } from "../errors.js";
import { LDD_SCRIPT, parseLddOutput, releaseMismatch, unresolvedByComponent, type UnresolvedDependency } from "./checks.js";
import { composeDockerfile, planCompose, type ComposePlan } from "./plan.js";

export const COMPOSE_PHASES: Phase[] = ["plan", "final-image", "checks", "tag"];

export interface ComposeOutcome {
  image: { tag: string; id: string };
  plan: ComposePlan;
  dockerfile: string;
  unresolved: UnresolvedDependency[];
  workDir: string;
}

/**
 * The compose strategy: start from the published image that holds the preset's special backend,
 * copy every other component from a published image that holds it, then check that all sources
 * are one release and that every copied library resolves its dependencies in the result.
 */
export async function runCompose(input: { settings: BuildSettings; emit: Emit; signal: AbortSignal }): Promise<ComposeOutcome> {
  const { settings, emit, signal } = input;
  const started = performance.now();
  const tempTag = `triton-build/compose:${settings.runId}`;
  emit({ type: "run-start", runId: settings.runId, preset: settings.preset.name, strategy: "compose", phases: COMPOSE_PHASES, workDir: settings.workDir });
  await daemonInfo({ signal });
  const runDir = await openRunDir(settings.workDir);
  try {
    const { plan, dockerfile, dockerfilePath } = await timedPhase(emit, "plan", async () => {
      const plan = planCompose(settings.preset);
      for (const message of plan.warnings) emit({ type: "warning", message });
      const dockerfile = composeDockerfile(plan, settings.preset);
      const dockerfilePath = path.join(runDir.root, "compose", "Dockerfile");
      await mkdir(path.dirname(dockerfilePath), { recursive: true });
      await writeFile(dockerfilePath, dockerfile);
      emit({ type: "phase-output", phase: "plan", line: `Dockerfile: ${dockerfilePath}` });
      await checkSourceReleases(plan, settings.pull, emit, signal);
      return { plan, dockerfile, dockerfilePath };
    });
    emit({
      type: "plan",
      source: { url: plan.base.image, ref: settings.preset.release.release, commit: "" },
      components: [
        ...plan.inBase.map((c) => ({ name: c.name, kind: c.kind, action: "skip" as const, reason: `in the base image ${plan.base.image}` })),
        ...plan.copies.map((c) => ({ name: c.name, kind: c.kind, action: "build" as const, reason: `copied from ${c.from.image}` })),
      ],
    });

    const imageId = await timedPhase(emit, "final-image", async () => {
      const copying = copyProgress(plan, emit);
      try {
        const id = await buildImageWithLog(
          { contextDir: path.dirname(dockerfilePath), dockerfile: dockerfilePath, tag: tempTag, pull: settings.pull },
          { phase: "final-image", logPath: path.join(runDir.logs, "compose-image.log"), what: "building the composed image", signal, emit: copying.emit },
        );
        copying.finish("ok");
        return id;
      } catch (error) {
        copying.finish("failed");
        throw error;
      }
    });

    const unresolved = await timedPhase(emit, "checks", () => checkLibraries(plan, tempTag, settings.allowMissingLibs, emit, signal));

    await timedPhase(emit, "tag", async () => {
      await tagImage(tempTag, settings.tag, { signal });
      emit({ type: "phase-output", phase: "tag", line: settings.tag });
    });
    emit({ type: "result", status: "ok", durationMs: performance.now() - started, image: { tag: settings.tag, id: imageId } });
    return { image: { tag: settings.tag, id: imageId }, plan, dockerfile, unresolved, workDir: runDir.root };
  } catch (error) {
    throw failRun(error, { emit, signal, started });
  } finally {
    await untagImage(tempTag).catch(() => undefined);
    await runDir.release();
  }
}

/** Every source image must be here (pulled unless --no-pull) and say the same Triton release. */
async function checkSourceReleases(plan: ComposePlan, pull: boolean, emit: Emit, signal: AbortSignal): Promise<void> {
  const releases = [];
  for (const source of plan.sources) {
    let info = await inspectImage(source.image, { signal });
    if (!info && pull) {
      emit({ type: "phase-output", phase: "plan", line: `pulling ${source.image}` });
      await pullImage(source.image, { signal }).catch((error: unknown) => {
        throw new EnvironmentError(`cannot pull ${source.image}: ${String((error as Error)?.message ?? error)}`, "log in to the registry (`docker login`), or point at a mirror with --image NAME=IMAGE");
      });
      info = await inspectImage(source.image, { signal });
    }
    if (!info) {
      throw new EnvironmentError(`image ${source.image} is not present locally`, "pull it first, drop --no-pull, or point at a local copy with --image NAME=IMAGE");
    }
    releases.push({
      image: source.image,
      ...(info.env["NVIDIA_TRITON_SERVER_VERSION"] ? { container: info.env["NVIDIA_TRITON_SERVER_VERSION"] } : {}),
      ...(info.env["TRITON_SERVER_VERSION"] ? { triton: info.env["TRITON_SERVER_VERSION"] } : {}),
    });
  }
  const mismatch = releaseMismatch(releases);
  if (mismatch) {
    throw new BuildError(mismatch, { component: "checks", hint: "copying backends between releases breaks at run time; use images of one release (--image NAME=IMAGE)" });
  }
  emit({ type: "phase-output", phase: "plan", line: `all sources are ${releases[0]?.container ?? "?"} (Triton ${releases[0]?.triton ?? "?"})` });
}

/** `ldd` on every library of every copied component, inside the result. */
async function checkLibraries(plan: ComposePlan, image: string, allowMissing: boolean, emit: Emit, signal: AbortSignal): Promise<UnresolvedDependency[]> {
  if (plan.copies.length === 0) return [];
  const result = await runOnce(image, ["-c", LDD_SCRIPT, "sh", ...plan.copies.map((c) => c.path)], { entrypoint: "sh", signal });
  if (result.exitCode !== 0) throw new BuildError(`could not run ldd in the composed image: ${result.stderr.trim() || `exit ${result.exitCode}`}`, { component: "checks" });
  const reports = parseLddOutput(result.stdout);
  const unresolved = unresolvedByComponent(plan.copies, reports);
  emit({ type: "phase-output", phase: "checks", line: `ldd: ${reports.length} libraries checked, ${unresolved.length} with unresolved dependencies` });
  for (const problem of unresolved) {
    emit({
      type: "warning",
      component: problem.component,
      message: `${problem.component}: ${problem.library} needs ${problem.missing.join(", ")}, which ${problem.missing.length === 1 ? "is" : "are"} not in the image${problem.main ? " (the backend's main library: Triton cannot load it)" : ""}`,
    });
  }
  const fatal = unresolved.filter((u) => u.main);
  if (fatal.length && !allowMissing) {
    throw new BuildError(
      `${fatal.map((u) => `${u.component} cannot load: ${u.library} needs ${u.missing.join(", ")}`).join("; ")}`,
      { component: "checks", hint: "the source images ship different libraries; use --strategy build, or --allow-missing-libs to keep the image anyway" },
    );
  }
  return unresolved;
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
