import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";
import { createWorld, type World } from "../helpers/world.js";

// An image recipe whose `context` passes the preset schema (relative, no '..') but is a symlink
// in the recipe's repository to a directory of the host, crafted by hand: with `COPY . /loot/`
// in its Dockerfile, the host directory would end up in the image. The run refuses it after
// checkout, before anything is sent to Docker.

let temp: string;
let world: World;
let secret: string;
let preset: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-recipe-escape-");
  world = await createWorld(path.join(temp, "world"));
  secret = path.join(temp, "secret");
  await mkdir(secret);
  await writeFile(path.join(secret, "token"), "s3cret\n");
  const repo = path.join(temp, "recipe");
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: repo, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  await mkdir(path.join(repo, "dockerfile"));
  await writeFile(path.join(repo, "dockerfile/Dockerfile.base"), "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nCOPY . /loot/\n");
  execFileSync("ln", ["-s", secret, path.join(repo, "ctx")]);
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a context that leads out");
  git("tag", "v1.0");
  preset = path.join(temp, "escape.yaml");
  await writeFile(
    preset,
    [
      'release: "24.05"',
      "backends: [python]",
      "images:",
      "  base:",
      "    recipe:",
      `      repo: ${repo}`,
      "      ref: v1.0",
      "      dockerfile: dockerfile/Dockerfile.base",
      "      context: ctx",
      "      buildArgs:",
      `        FROM_IMAGE: ${FIXTURE_BASE_IMAGE}`,
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("an image recipe whose context is a symlink out of its repository", () => {
  it("is refused with exit 2 naming the preset field; no image is built and the host directory is untouched", async () => {
    const cacheDir = path.join(temp, "cache");
    const plan = await runCli(["plan", "--preset", preset, ...world.args(), "--cache-dir", cacheDir, "--json"], { tempDir: temp });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const recipeTag = (JSON.parse(plan.stdout).images.recipes as Array<{ tag: string }>)[0]?.tag ?? "";
    expect(recipeTag).toMatch(/^triton-build\/base:/);

    const tag = world.tag("recipe-escape");
    const result = await runCli(["--preset", preset, ...world.args(), "--cache-dir", cacheDir, "--tag", tag], { tempDir: temp });
    expectCleanFailure(result, 2, "images.base.recipe.context 'ctx' leads out of the recipe's repository through a symlink");
    const built = await execa("docker", ["image", "inspect", recipeTag], { reject: false });
    expect(built.exitCode, "the recipe image must not exist").not.toBe(0);
    expect((await execa("docker", ["image", "inspect", tag], { reject: false })).exitCode).not.toBe(0);
    expect(await readdir(secret)).toEqual(["token"]);
    expect(await readFile(path.join(secret, "token"), "utf8")).toBe("s3cret\n");
  });
});
