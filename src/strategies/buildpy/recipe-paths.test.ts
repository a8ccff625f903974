import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PresetError } from "../../errors.js";
import type { RecipeImage } from "./images.js";
import { checkRecipePaths, recipePathProblem } from "./recipe-paths.js";

/**
 * A recipe repository crafted by hand with symlinks out of it: the preset's `context` and
 * `dockerfile` pass the schema (relative, no `..`) but lead to a secret of the host. The check
 * runs on the checkout before anything is sent to Docker.
 */

let temp: string;
let checkout: string;
let secret: string;
beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), "tb-recipe-paths-"));
  secret = path.join(temp, "secret");
  await mkdir(secret);
  await writeFile(path.join(secret, "config.json"), '{"auths":{"registry":{"auth":"c2VjcmV0"}}}');
  checkout = path.join(temp, "recipe-base");
  await mkdir(path.join(checkout, "dockerfile"), { recursive: true });
  await writeFile(path.join(checkout, "dockerfile/Dockerfile.base"), "FROM scratch\nCOPY . /loot/\n");
  await symlink(secret, path.join(checkout, "ctx"));
  await symlink("../secret", path.join(checkout, "rel"));
  await symlink(path.join(secret, "config.json"), path.join(checkout, "dockerfile/Dockerfile.link"));
  await mkdir(path.join(checkout, "sub"));
  await symlink("..", path.join(checkout, "sub/up"));
  await symlink("dockerfile", path.join(checkout, "inside"));
});
afterAll(() => rm(temp, { recursive: true, force: true }));

const image = (context: string, dockerfile = "dockerfile/Dockerfile.base"): RecipeImage =>
  ({
    name: "base",
    tag: "triton-build/base:0",
    recipe: { repo: "https://example.invalid/recipe.git", ref: "main", context, dockerfile },
  }) as unknown as RecipeImage;

describe("an image recipe's context and dockerfile after checkout", () => {
  it("the control: paths inside the repository, also through a link that stays inside, pass", async () => {
    expect(await recipePathProblem(checkout, { context: ".", dockerfile: "dockerfile/Dockerfile.base" })).toBeUndefined();
    expect(await recipePathProblem(checkout, { context: "inside", dockerfile: "inside/Dockerfile.base" })).toBeUndefined();
    expect(await recipePathProblem(checkout, { context: "sub/up", dockerfile: "sub/up/dockerfile/Dockerfile.base" })).toBeUndefined();
  });

  it.each([
    [
      "context: ctx -> an absolute host directory",
      "ctx",
      "dockerfile/Dockerfile.base",
      "context",
      /leads out of the recipe's repository through a symlink \(to .*\/secret\)/,
    ],
    ["context: rel -> ../secret", "rel", "dockerfile/Dockerfile.base", "context", /leads out of the recipe's repository/],
    ["context: sub/up/rel, a chain of links", "sub/up/rel", "dockerfile/Dockerfile.base", "context", /leads out of the recipe's repository/],
    [
      "dockerfile: a link to a host file",
      ".",
      "dockerfile/Dockerfile.link",
      "dockerfile",
      /leads out of the recipe's repository through a symlink \(to .*\/secret\/config\.json\)/,
    ],
    ["dockerfile: read through a context link", ".", "ctx/config.json", "dockerfile", /leads out of the recipe's repository/],
  ])("refuses %s, naming the preset field (exit 2), and reads nothing of the secret", async (_name, context, dockerfile, field, problem) => {
    const before = await readdir(secret);
    const found = await recipePathProblem(checkout, { context, dockerfile });
    expect(found?.field).toBe(field);
    expect(found?.problem).toMatch(problem);
    const error = await checkRecipePaths(checkout, image(context, dockerfile)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresetError);
    expect((error as PresetError).exitCode).toBe(2);
    expect((error as PresetError).message).toMatch(new RegExp(`^images\\.base\\.recipe\\.${field} `));
    // Nothing changed on the host side.
    expect(await readdir(secret)).toEqual(before);
    expect(await readFile(path.join(secret, "config.json"), "utf8")).toContain("c2VjcmV0");
  });

  it("refuses a context that does not exist and a Dockerfile that is a directory", async () => {
    expect(await recipePathProblem(checkout, { context: "missing", dockerfile: "dockerfile/Dockerfile.base" })).toMatchObject({
      field: "context",
      problem: /does not exist/,
    });
    expect(await recipePathProblem(checkout, { context: ".", dockerfile: "dockerfile" })).toMatchObject({
      field: "dockerfile",
      problem: /is not a regular file/,
    });
  });
});
