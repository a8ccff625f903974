import { createHash } from "node:crypto";
import type { Preset } from "../../presets/model.js";
import type { ImageRecipe } from "../../presets/schema.js";
import { lsRemote } from "../../source/git.js";
import { resolveSource } from "../../source/mirror.js";
import { firstErrorLine } from "../../errors.js";

export interface RecipeImage {
  /** build.py image name, e.g. base. */
  name: string;
  recipe: ImageRecipe;
  /** The commit the recipe's ref resolved to; undefined when it could not be resolved. */
  commit?: string;
  /** Content-addressed tag: the same recipe at the same commit gives the same tag, so it is built once. */
  tag: string;
}

export interface ResolvedImages {
  /** Concrete references for every build.py image the preset sets. */
  refs: Record<string, string>;
  recipes: RecipeImage[];
  warnings: string[];
}

/** Turns image recipes into the tag they will be built as; plain references pass through. */
export async function resolvePresetImages(preset: Preset, options: { offline: boolean; cacheDir: string; signal?: AbortSignal }): Promise<ResolvedImages> {
  const refs: Record<string, string> = {};
  const recipes: RecipeImage[] = [];
  const warnings: string[] = [];
  for (const name of preset.release.buildpy.images) {
    const spec = preset.images[name];
    if (!spec) continue;
    if (spec.kind === "ref") {
      refs[name] = spec.ref;
      continue;
    }
    let commit: string | undefined;
    if (options.offline) {
      // Offline, the recipe's mirror from an earlier run says which commit the ref names.
      commit = await resolveSource(spec.recipe.repo, spec.recipe.ref, { cacheDir: options.cacheDir, offline: true }).then(
        (source) => source.commit,
        () => undefined,
      );
      if (!commit) warnings.push(`image recipe '${name}': --offline and no mirror of ${spec.recipe.repo} resolves ${spec.recipe.ref}`);
    } else {
      try {
        commit = await lsRemote(spec.recipe.repo, spec.recipe.ref, { signal: options.signal, blockTimeoutMs: 60_000 });
        if (!commit) warnings.push(`image recipe '${name}': ref ${spec.recipe.ref} not found in ${spec.recipe.repo}`);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        warnings.push(
          `image recipe '${name}': cannot resolve ${spec.recipe.ref} in ${spec.recipe.repo}: ${firstErrorLine(error)}; ` +
            `pass --image ${name}=IMAGE, or give images.${name} in full (its recipe's repo a mirror) in a preset that extends this one`,
        );
      }
    }
    const tag = recipeImageTag(name, spec.recipe, commit);
    refs[name] = tag;
    recipes.push({ name, recipe: spec.recipe, tag, commit });
  }
  return { refs, recipes, warnings };
}

export function recipeImageTag(name: string, recipe: ImageRecipe, commit: string | undefined): string {
  const identity = JSON.stringify({ ...recipe, buildArgs: Object.entries(recipe.buildArgs).sort(), commit: commit ?? `ref:${recipe.ref}` });
  return `triton-build/${name}:${createHash("sha256").update(identity).digest("hex").slice(0, 16)}`;
}
