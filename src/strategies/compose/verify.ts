import type { Emit, SourceImage } from "../../run/events.js";
import { runOnce } from "../../docker/container.js";
import { inspectImage, pullImage } from "../../docker/image.js";
import { BuildError, EnvironmentError, errorMessage } from "../../errors.js";
import {
  LDD_SCRIPT,
  missingMainMessage,
  missingTool,
  parseLddOutput,
  scannedDirs,
  uncheckedCopies,
  unresolvedByComponent,
  unresolvedMessage,
  type UnresolvedDependency,
} from "./ldd.js";
import type { ComposePlan } from "./plan.js";
import { releaseMismatch, type ExpectedRelease } from "./release-check.js";

/** The checks of a compose, around its image build: the sources before, the libraries after. */

/**
 * Every source image, as the build will use it: it must be here, and with pulling on it is pulled
 * now, even when it is here, and the image build then pulls nothing: what is checked is what is
 * built.
 */
export async function readSourceImages(plan: ComposePlan, pull: boolean, emit: Emit, signal: AbortSignal): Promise<SourceImage[]> {
  const images: SourceImage[] = [];
  for (const source of plan.sources) {
    if (pull) {
      emit({ type: "phase-output", phase: "plan", line: `pulling ${source.image}` });
      await pullImage(source.image, { signal }).catch((error: unknown) => {
        if (signal.aborted) throw error;
        throw new EnvironmentError(
          `cannot pull ${source.image}: ${errorMessage(error)}`,
          "log in to the registry (`docker login`), point at a mirror with --image NAME=IMAGE, or use the local copy with --no-pull",
        );
      });
    }
    const info = await inspectImage(source.image, { signal });
    if (!info) {
      throw new EnvironmentError(
        `image ${source.image} is not present locally`,
        "pull it first, drop --no-pull, or point at a local copy with --image NAME=IMAGE",
      );
    }
    images.push({
      key: source.key,
      image: source.image,
      id: info.id,
      ...(info.env.NVIDIA_TRITON_SERVER_VERSION ? { container: info.env.NVIDIA_TRITON_SERVER_VERSION } : {}),
      ...(info.env.TRITON_SERVER_VERSION ? { triton: info.env.TRITON_SERVER_VERSION } : {}),
    });
  }
  return images;
}

/** The source images must all say the preset's Triton release. */
export function requireOneRelease(images: readonly SourceImage[], expected: ExpectedRelease, emit: Emit): void {
  const mismatch = releaseMismatch(images, expected);
  if (mismatch) {
    throw new BuildError(mismatch, {
      component: "checks",
      hint: `copying backends between releases breaks at run time; use images of ${expected.container} (--image NAME=IMAGE), or a preset of the images' release`,
    });
  }
  emit({ type: "phase-output", phase: "plan", line: `all sources are ${expected.container} (Triton ${expected.triton})` });
}

/** `ldd` on every library of every copied component, inside the result. */
export async function checkLibraries(
  plan: ComposePlan,
  image: string,
  allowMissing: boolean,
  emit: Emit,
  signal: AbortSignal,
): Promise<UnresolvedDependency[]> {
  if (plan.copies.length === 0) {
    emit({ type: "libraries-checked", checked: 0, unresolved: [] });
    return [];
  }
  const result = await runOnce(image, ["-c", LDD_SCRIPT, "sh", ...plan.copies.map((c) => c.path)], { entrypoint: "sh", signal });
  const tool = missingTool(result.stderr);
  if (tool) {
    throw new BuildError(`cannot check the copied libraries: the composed image has no ${tool} (the base image ${plan.base.image} lacks it)`, {
      component: "checks",
      hint: `compose runs ${tool} inside the result to check every copied library; use a base image that has it (--image ${plan.base.key}=IMAGE), or --strategy build`,
    });
  }
  if (result.exitCode !== 0)
    throw new BuildError(`could not run ldd in the composed image: ${result.stderr.trim() || `exit ${result.exitCode}`}`, { component: "checks" });
  const reports = parseLddOutput(result.stdout);
  const { notScanned, withoutLibraries, withoutMain } = uncheckedCopies(plan.copies, scannedDirs(result.stdout), reports);
  if (notScanned.length) {
    throw new BuildError(`the library check did not find ${notScanned.map((c) => c.path).join(", ")} in the composed image`, {
      component: "checks",
      hint: "the image build copied them, so the check ran in a different image or was cut short; run the build again",
    });
  }
  for (const copy of withoutMain) {
    emit({ type: "warning", component: copy.name, message: missingMainMessage(copy, !withoutLibraries.includes(copy)) });
  }
  const unresolved = unresolvedByComponent(plan.copies, reports);
  emit({ type: "phase-output", phase: "checks", line: `ldd: ${reports.length} libraries checked, ${unresolved.length} with unresolved dependencies` });
  emit({ type: "libraries-checked", checked: reports.length, unresolved });
  for (const problem of unresolved) emit({ type: "warning", component: problem.component, message: unresolvedMessage(problem) });
  const fatal = unresolved.filter((u) => u.main);
  if (fatal.length && !allowMissing) {
    throw new BuildError(`${fatal.map((u) => `${u.component} cannot load: ${u.library} needs ${u.missing.join(", ")}`).join("; ")}`, {
      component: "checks",
      hint: "the source images ship different libraries; use --strategy build, or --allow-missing-libs to keep the image anyway",
    });
  }
  return unresolved;
}
