import path from "node:path";
import { inspectImage } from "../../../docker/image.js";
import { EnvironmentError } from "../../../errors.js";
import { gitLfsVersion, lfsPull, updateSubmodules } from "../../../source/git.js";
import { checkoutSource, resolveSource } from "../../../source/mirror.js";
import type { Emit } from "../../../run/events.js";
import type { RecipeImage } from "../images.js";
import { buildImageWithLog } from "../../../run/image-phase.js";
import { checkRecipePaths } from "../recipe-paths.js";

export interface RecipeImageContext {
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
    if (await inspectImage(image.tag, { signal: context.signal })) {
      context.emit({ type: "phase-output", phase: "base-image", line: `${image.tag} already built, reusing it` });
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
        logPath: path.join(context.logDir, `base-image-${image.name}.log`),
        what: `building image '${image.name}' from ${recipe.repo}@${recipe.ref} (${recipe.dockerfile})`,
        hint: "the recipe's build arguments (e.g. download URLs) may need changing for your network: override them in your own preset, or give a ready image with --image",
        signal: context.signal,
        emit: context.emit,
      },
    );
  }
}
