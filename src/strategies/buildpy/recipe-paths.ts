import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { PresetError } from "../../errors.js";
import { showValue } from "../../presets/values.js";
import type { RecipeImage } from "./images.js";

/**
 * An image recipe's `context` and `dockerfile` after checkout: the preset schema checks their
 * text (relative, no `..`), but a symlink in the recipe's repository can still lead out of it
 * (`ctx -> /tmp/secret`, `ctx -> ~/.docker`), and whatever the context holds is sent to the
 * daemon and can be copied into the image. Both are resolved as the kernel does and must stay
 * inside the checkout.
 */

export interface RecipePathProblem {
  field: "context" | "dockerfile";
  value: string;
  problem: string;
}

/** What is wrong with the recipe's paths in `checkout`, or undefined. */
export async function recipePathProblem(checkout: string, recipe: { context: string; dockerfile: string }): Promise<RecipePathProblem | undefined> {
  const root = await realpath(checkout);
  for (const field of ["context", "dockerfile"] as const) {
    const value = recipe[field];
    const resolved = await realpath(path.join(checkout, value)).catch(() => undefined);
    if (resolved === undefined) return { field, value, problem: "does not exist in the recipe's repository" };
    if (resolved !== root && !resolved.startsWith(`${root}/`)) {
      return { field, value, problem: `leads out of the recipe's repository through a symlink (to ${resolved})` };
    }
    const info = await stat(resolved);
    const wanted = field === "context" ? info.isDirectory() : info.isFile();
    if (!wanted) return { field, value, problem: `is not a ${field === "context" ? "directory" : "regular file"} in the recipe's repository` };
  }
  return undefined;
}

/** Refuses (exit 2) a recipe whose context or Dockerfile is not inside its checkout, naming the preset field. */
export async function checkRecipePaths(checkout: string, image: RecipeImage): Promise<void> {
  const found = await recipePathProblem(checkout, image.recipe);
  if (!found) return;
  throw new PresetError(`images.${image.name}.recipe.${found.field} ${showValue(found.value)} ${found.problem} (${image.recipe.repo})`, {
    hint: "a recipe's context and dockerfile must be inside its repository; presets from pull requests are code: review them as code",
  });
}
