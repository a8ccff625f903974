import path from "node:path";
import { DEFAULT_ENGINE, type DockerEngine } from "../../../docker/engine.js";
import { EnvironmentError } from "../../../errors.js";
import { gitLfsVersion, lfsPull, updateSubmodules } from "../../../source/git.js";
import { checkoutSource, resolveSource } from "../../../source/mirror.js";
import type { Emit } from "../../../run/events.js";
import type { Preset } from "../../../presets/model.js";
import type { RunContext } from "../context.js";
import type { RecipeImage } from "../images.js";
import { skippedPhase, timedPhase } from "../../../run/phase.js";
import { buildImageWithLog } from "../../../run/image-phase.js";
import { checkRecipePaths } from "../recipe-paths.js";

export interface RecipeImageContext {
  /** The engine the image is built on (each engine that builds needs it). */
  engine: DockerEngine;
  cacheDir: string;
  offline: boolean;
  pull: boolean;
  workDir: string;
  logDir: string;
  signal: AbortSignal;
  emit: Emit;
}

/**
 * Builds each image recipe (e.g. the TensorRT-LLM base image from tensorrtllm_backend's
 * Dockerfile). The tag is content-addressed, so an image built by an earlier run is reused.
 */
export async function buildRecipeImages(recipes: readonly RecipeImage[], context: RecipeImageContext): Promise<void> {
  for (const image of recipes) {
    if (await context.engine.inspectImage(image.tag, { signal: context.signal })) {
      context.emit({ type: "phase-output", phase: "base-image", line: `${image.tag} already built${onEngine(context.engine)}, reusing it` });
      continue;
    }
    const { recipe } = image;
    const source = await resolveSource(recipe.repo, image.commit ?? recipe.ref, {
      cacheDir: context.cacheDir,
      offline: context.offline,
      signal: context.signal,
      onRetry: (message) => context.emit({ type: "warning", message }),
    });
    const checkout = path.join(context.workDir, `recipe-${image.name}`);
    await checkoutSource(source, checkout, { signal: context.signal, withGit: recipe.submodules || recipe.lfs });
    if (recipe.submodules) await updateSubmodules(checkout, { signal: context.signal });
    if (recipe.lfs) {
      if (!(await gitLfsVersion())) {
        throw new EnvironmentError(
          `image recipe '${image.name}' needs Git LFS files from ${recipe.repo}, and git-lfs is not installed here`,
          "apt-get install git-lfs && git lfs install",
        );
      }
      await lfsPull(checkout, { signal: context.signal });
    }
    await checkRecipePaths(checkout, image);

    await buildImageWithLog(
      {
        contextDir: path.join(checkout, recipe.context),
        dockerfile: path.join(checkout, recipe.dockerfile),
        tag: image.tag,
        pull: context.pull,
        buildArgs: recipe.buildArgs,
        ...(recipe.target ? { target: recipe.target } : {}),
        labels: { "triton-build.recipe": `${recipe.repo}@${source.commit}:${recipe.dockerfile}` },
      },
      {
        phase: "base-image",
        logPath: path.join(context.logDir, `base-image-${image.name}${context.engine.name === DEFAULT_ENGINE ? "" : `-${context.engine.name}`}.log`),
        what: `building image '${image.name}' from ${recipe.repo}@${recipe.ref} (${recipe.dockerfile})`,
        hint: "the recipe's build arguments (e.g. download URLs) may need changing for your network: override them in your own preset, or give a ready image with --image",
        signal: context.signal,
        emit: context.emit,
        engine: context.engine,
      },
    );
  }
}

function onEngine(engine: DockerEngine): string {
  return engine.name === DEFAULT_ENGINE ? "" : ` on engine ${engine.name}`;
}

/**
 * Images from recipes (e.g. the TensorRT-LLM base) exist only on the engines that built them:
 * build them on each engine that gets work, also when every component comes from the cache,
 * because the final image starts FROM them.
 */
export async function baseImagePhase(run: RunContext, recipes: readonly RecipeImage[], engines: readonly DockerEngine[]): Promise<void> {
  if (!recipes.length) {
    skippedPhase(run.emit, "base-image", noRecipeReason(run.settings.preset));
    return;
  }
  await timedPhase(run.emit, "base-image", async () => {
    for (const engine of engines) {
      await buildRecipeImages(recipes, {
        engine,
        cacheDir: run.settings.cacheDir,
        offline: run.settings.offline,
        pull: run.settings.pull,
        workDir: run.runDir.root,
        logDir: run.runDir.logs,
        signal: run.signal,
        emit: run.emit,
      });
    }
  });
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
