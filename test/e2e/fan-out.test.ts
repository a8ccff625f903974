// CI fan-out on a real engine and a real registry: one `build --only COMPONENT` job per component
// (as `plan --json` lists them), each with its own cache dir, pushing to one shared registry;
// then one `build --cached-only` job with an empty cache dir builds the image.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { startTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { createWorld, imageFiles, treeDifferences, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let registry: TestRegistry;
let preset: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-fanout-");
  world = await createWorld(path.join(temp, "world"), { fixtureJson: `{\n  "default": 20\n}\n`, orgTags: { onnxruntime_backend: ["r24.05-alt"] } });
  preset = await world.preset("fan", "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n");
  registry = await startTestRegistry(path.join(temp, "registry"));
});
afterAll(async () => {
  await registry?.stop();
  await world?.cleanup();
  await removeTempDir(temp);
});

const cli = (args: string[]) => runCli(["--preset", preset, ...world.args(), ...args], { tempDir: temp, env: registry.env });

describe("CI fan-out", () => {
  it("--only jobs with separate cache dirs sharing one registry, then --cached-only on an empty cache dir: the image of a plain build", async () => {
    const remote = `${registry.address}/fan-cache`;
    const plan = await runCli(["plan", "--preset", preset, ...world.args(), "--json"], { tempDir: temp });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const fanOut = JSON.parse(plan.stdout).fanOut as string[];
    expect(fanOut).toEqual(["core", "python", "onnxruntime", "checksum"]);

    for (const component of fanOut) {
      const job = await cli([
        "--only",
        component,
        "--cache-dir",
        path.join(temp, `cache-${component}`),
        "--remote-cache",
        remote,
        "--remote-cache-mode",
        "readwrite",
      ]);
      expect(job.exitCode, job.stderr).toBe(0);
      expect(job.stdout).toMatch(/^Result\s+ok, no image \(components compiled and cached only\)$/m);
      expect(job.stdout).toMatch(new RegExp(`^(Components)?\\s+${component}\\s+built\\b`, "m"));
      expect(job.stdout).toMatch(/skip {3}Final image \(--only compiles and caches components, and builds no image\)/);
    }
    expect((await registry.tags("fan-cache")).map((t) => t.replace(/-[0-9a-f]{64}$/, "")).sort()).toEqual([...fanOut].sort());

    const tag = world.tag("assembled");
    const reportFile = path.join(temp, "assembled.json");
    const assembled = await cli([
      "--cached-only",
      "--cache-dir",
      path.join(temp, "cache-empty"),
      "--remote-cache",
      remote,
      "--tag",
      tag,
      "--report",
      reportFile,
    ]);
    expect(assembled.exitCode, assembled.stderr).toBe(0);
    const report = JSON.parse(await readFile(reportFile, "utf8")) as {
      phases: Array<{ phase: string; status: string }>;
      components: Array<{ name: string; status: string }>;
    };
    expect(Object.fromEntries(report.components.map((c) => [c.name, c.status]))).toEqual({
      core: "cached",
      python: "cached",
      onnxruntime: "cached",
      checksum: "cached",
      ci: "skipped",
    });
    for (const phase of ["buildbase", "builder"]) expect(report.phases.find((p) => p.phase === phase)?.status).toBe("skipped");

    const plain = world.tag("plain");
    const reference = await cli(["--no-cache", "--tag", plain]);
    expect(reference.exitCode, reference.stderr).toBe(0);
    // Core's `tar zcf` of its third-party sources carries its build's timestamps (as build.py's does).
    const differences = treeDifferences(await imageFiles(tag), await imageFiles(plain));
    expect(differences.filter((d) => !/^third-party-src\/src\.tar\.gz: file 666 \S+ \| file 666 \S+$/.test(d))).toEqual([]);
  });

  it("--cached-only with an entry missing: exit 1 naming it, nothing compiled", async () => {
    const remote = `${registry.address}/fan-cache`;
    const result = await cli([
      "--cached-only",
      "--backend",
      "onnxruntime:r24.05-alt",
      "--cache-dir",
      path.join(temp, "cache-missing"),
      "--remote-cache",
      remote,
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: --cached-only: 1 component\(s\) not in the cache: onnxruntime \(key [0-9a-f]{12}: no entry\)$/m);
    expect(result.stdout).not.toMatch(/start {2}Compile components/);
    expect(result.stderr).not.toMatch(/bug/);
  });
});
