import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";
import { createWorld, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let preset: string;
let recipeTag: string | undefined;

/** A repository holding a base image's Dockerfile, as tensorrtllm_backend holds Dockerfile.triton.trt_llm_backend. */
function recipeRepo(dir: string): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });
  execFileSync("git", ["init", "-q", "-b", "main", dir]);
  execFileSync("sh", [
    "-c",
    `mkdir -p ${dir}/dockerfile && printf 'ARG FROM_IMAGE\\nFROM \${FROM_IMAGE}\\nARG MARK=none\\nRUN echo "$MARK" > /etc/recipe-mark\\n' > ${dir}/dockerfile/Dockerfile.base`,
  ]);
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base recipe");
  git("tag", "v1.0");
  return dir;
}

beforeAll(async () => {
  temp = await makeTempDir("tb-recipe-");
  world = await createWorld(path.join(temp, "world"));
  const repo = recipeRepo(path.join(temp, "recipe"));
  const file = path.join(temp, "recipe.yaml");
  await mkdir(temp, { recursive: true });
  await writeFile(
    file,
    [
      'release: "24.05"',
      "features: [gpu]",
      "endpoints: [http]",
      "backends: [ensemble, python]",
      "images:",
      "  base:",
      "    recipe:",
      `      repo: ${repo}`,
      "      ref: v1.0",
      "      dockerfile: dockerfile/Dockerfile.base",
      "      buildArgs:",
      `        FROM_IMAGE: ${FIXTURE_BASE_IMAGE}`,
      "        MARK: from-the-recipe",
      "",
    ].join("\n"),
  );
  preset = file;
});
afterAll(async () => {
  if (recipeTag) await execa("docker", ["rmi", recipeTag], { reject: false });
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("base image from a recipe", () => {
  it("is built first, used by the build and the final image, and rebuilt when an all-hit run needs it", async () => {
    const cacheDir = path.join(temp, "cache");
    const plan = await runCli(["plan", "--preset", preset, ...world.args(), "--cache-dir", cacheDir, "--json"], { tempDir: temp });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const recipes = JSON.parse(plan.stdout).images.recipes as Array<{ tag: string; commit: string | null }>;
    expect(recipes).toHaveLength(1);
    expect(recipes[0]?.commit).toMatch(/^[0-9a-f]{40}$/);
    recipeTag = recipes[0]?.tag;
    expect(JSON.parse(plan.stdout).buildpy.argv).toContain(`--image=base,${recipeTag}`);

    const first = world.tag("recipe-first");
    const a = await runCli(["--preset", preset, ...world.args(), "--cache-dir", cacheDir, "--tag", first], { tempDir: temp });
    expect(a.exitCode, `${a.stdout}\n${a.stderr}`).toBe(0);
    expect(String((await execa("docker", ["run", "--rm", first, "cat", "/etc/recipe-mark"])).stdout)).toBe("from-the-recipe");

    // Every component is cached now; without the recipe image the final image could not start FROM it.
    await execa("docker", ["rmi", "--no-prune", recipeTag ?? ""]);
    const second = world.tag("recipe-second");
    const report = path.join(temp, "second.json");
    const b = await runCli(["--preset", preset, ...world.args(), "--cache-dir", cacheDir, "--tag", second, "--report", report], { tempDir: temp });
    expect(b.exitCode, `${b.stdout}\n${b.stderr}`).toBe(0);
    const phases = Object.fromEntries(
      (JSON.parse(await readFile(report, "utf8")).phases as Array<{ phase: string; status: string }>).map((p) => [p.phase, p.status]),
    );
    expect(phases).toMatchObject({ "base-image": "ok", buildbase: "skipped", builder: "skipped" });
    expect(String((await execa("docker", ["run", "--rm", second, "cat", "/etc/recipe-mark"])).stdout)).toBe("from-the-recipe");
  });
});
