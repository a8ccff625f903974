import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { outputRoots } from "../../../cache/outputs.js";
import { buildImageWithLog } from "../../../run/image-phase.js";
import { timedPhase } from "../../../run/phase.js";
import type { RunContext } from "../context.js";
import type { Plan } from "../plan.js";
import type { RestoredComponent } from "./cache-steps.js";
import type { CompileResult } from "./compile.js";
import { addReadWriteForAll, moveRestoredRoots, opensInstallTree } from "./install-tree.js";

/**
 * The install tree build.py's Dockerfile copies: each compiled component's part as its builder
 * left it, and each restored component, moved into `<checkout>/build/install` (renames on one
 * file system). Then build.py's closing `chmod -R a+rw` of the whole tree, as one builder would
 * have left it: restored components never got it, and the directories the moves made (backends/
 * above backends/python) have the umask's mode.
 */
export async function assembleInstallTree(
  run: RunContext,
  plan: Plan,
  compiled: CompileResult,
  restored: { root: string; components: readonly RestoredComponent[] },
): Promise<void> {
  const installRoot = path.join(run.runDir.buildDir, "install");
  for (const part of compiled.parts) {
    const { kind, name } = part.component;
    await moveRestoredRoots(part.installRoot, installRoot, await outputRoots(kind, name, part.installRoot));
  }
  if (compiled.ciRoot) {
    const ciRoot = path.join(run.runDir.buildDir, "ci");
    await rm(ciRoot, { recursive: true, force: true });
    await rename(compiled.ciRoot, ciRoot);
  }
  await moveRestoredRoots(
    restored.root,
    installRoot,
    restored.components.flatMap((c) => c.roots),
  );
  if (opensInstallTree(plan.cmakeBuild)) await addReadWriteForAll(installRoot);
}

/** The final image (and the CI base image with --ci-image) on the first engine, tagged as asked. */
export async function buildFinalImage(run: RunContext, plan: Plan, pull: boolean): Promise<{ tag: string; id: string }> {
  const { settings, names, emit, signal } = run;
  const engine = run.engines[0]?.engine;
  if (!engine) throw new Error("a run has at least one engine");
  const id = await timedPhase(emit, "final-image", async () => {
    run.onCleanup(() => engine.untagImage(names.final));
    const built = await buildImageWithLog(
      { contextDir: plan.checkoutDir, dockerfile: path.join(run.runDir.buildDir, "Dockerfile"), tag: names.final, pull },
      { phase: "final-image", logPath: path.join(run.runDir.logs, "final-image.log"), what: "building the final image", signal, emit, engine },
    );
    if (settings.ciImage) {
      run.onCleanup(() => engine.untagImage(names.cibase));
      await buildImageWithLog(
        { contextDir: plan.checkoutDir, dockerfile: path.join(run.runDir.buildDir, "Dockerfile.cibase"), tag: names.cibase, pull },
        { phase: "final-image", logPath: path.join(run.runDir.logs, "cibase-image.log"), what: "building the CI base image", signal, emit, engine },
      );
    }
    return built;
  });
  await timedPhase(emit, "tag", async () => {
    await engine.tagImage(names.final, settings.tag, { signal });
    emit({ type: "phase-output", phase: "tag", line: settings.tag });
    if (settings.ciImage) await engine.tagImage(names.cibase, `${settings.tag}-cibase`, { signal });
  });
  return { tag: settings.tag, id };
}
