// A cache entry restored by a user who is not root, for real: the run's restore (CacheTiers, from
// dist/) runs under `setpriv --reuid=65534 --regid=65534 --clear-groups`. Root passes every
// permission check, so the tests that run as root cannot see what a directory of mode 0o555 or
// 0o000, or a file its owner may not read, does to everyone else: a restore that fails with
// EACCES, counted as this machine's problem, so the entry was kept and every run rebuilt; a
// staging dir left behind that nobody could remove; or a "restored" tree that nobody could read
// or remove. Each such entry is refused and evicted; a real problem of this machine (a work dir
// this user may not write) still keeps the entry.
import { chown, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../helpers/cli.js";
import { PROJECT_ROOT } from "../helpers/fixture-repo.js";

const NOBODY = 65534;

/** One scenario, as the user nobody: store a sound entry, change it as the scenario says, then restore it twice as a run would. */
const SCRIPT = String.raw`
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
const [dist, dir, scenario] = process.argv.slice(2);
const { LocalCache } = await import(path.join(dist, "cache/store.js"));
const { CacheTiers } = await import(path.join(dist, "cache/tiers.js"));
const { cacheKey } = await import(path.join(dist, "cache/key.js"));

const component = { name: "onnxruntime", kind: "backend" };
const inputs = { format: 1, component, section: "5".repeat(64), sources: {},
  buildbase: { dockerfile: "d".repeat(64), baseImage: "b", baseImageId: "x" }, platform: { os: "linux", arch: "x86_64" }, settings: {} };
const key = cacheKey(inputs);
const built = path.join(dir, "built");
await mkdir(path.join(built, "backends/onnxruntime/lib"), { recursive: true });
await writeFile(path.join(built, "backends/onnxruntime/libtriton_onnxruntime.so"), "library");
await writeFile(path.join(built, "backends/onnxruntime/lib/dep.so"), "dependency");
const cache = new LocalCache(path.join(dir, "cache"));
if ((await cache.store({ key, inputs, component, installRoot: built })) !== "stored") throw new Error("not stored");

const manifestFile = path.join(cache.entryDir(key), "manifest.json");
const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
const setMode = (list, p, mode) => { list.find((item) => item.path === p).mode = mode; };
if (scenario === "root-0555") setMode(manifest.dirs, "backends/onnxruntime", 0o555);
if (scenario === "subdir-0000") setMode(manifest.dirs, "backends/onnxruntime/lib", 0);
if (scenario === "file-0200") setMode(manifest.files, "backends/onnxruntime/lib/dep.so", 0o200);
await writeFile(manifestFile, JSON.stringify(manifest));
// The manifest is sound, the file on disk is not readable by this user (a shared cache dir).
if (scenario === "unreadable-file") await chmod(path.join(cache.entryDir(key), "files/backends/onnxruntime/lib/dep.so"), 0);

async function tree(at) {
  const names = await readdir(at, { recursive: true }).catch((error) => [String(error.code)]);
  return names.sort();
}
const runs = [];
for (const round of [1, 2]) {
  const work = path.join(dir, "work" + round);
  const install = path.join(work, "install");
  await mkdir(install, { recursive: true });
  // A work dir this user may not write: the machine's problem, not the entry's.
  if (scenario === "locked-work-dir") await chmod(work, 0o555);
  const tiers = new CacheTiers(cache, undefined, undefined);
  const localHit = Boolean(await cache.get(key));
  const steps = await tiers.restore(component, key, install, { localHit });
  await chmod(work, 0o755);
  const removable = await rm(work, { recursive: true }).then(() => true, (error) => String(error.code));
  runs.push({
    localHit,
    steps: steps.map((s) => s.status + ":" + s.source + (s.problem ? " " + s.problem : "")),
    restored: removable === true ? undefined : await tree(install),
    workDir: removable,
    entryKept: Boolean(await cache.get(key)),
    cacheTmp: await tree(path.join(cache.root, "tmp")),
  });
}
console.log(JSON.stringify(runs));
`;

let temp: string;
let script: string;
beforeAll(async () => {
  temp = await makeTempDir("tb-nonroot-");
  script = path.join(temp, "restore-as-nobody.mjs");
  await writeFile(script, SCRIPT);
  await chown(temp, NOBODY, NOBODY);
});
afterAll(() => removeTempDir(temp));

interface Run {
  localHit: boolean;
  steps: string[];
  restored?: string[];
  workDir: true | string;
  entryKept: boolean;
  cacheTmp: string[];
}

async function asNobody(scenario: string): Promise<Run[]> {
  const dir = path.join(temp, scenario);
  await mkdir(dir);
  await chown(dir, NOBODY, NOBODY);
  const result = await execa(
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "node", script, path.join(PROJECT_ROOT, "dist"), dir, scenario],
    { reject: false },
  );
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Run[];
}

describe("restoring as a user who is not root (setpriv --reuid=65534)", () => {
  it("the control: a sound entry is restored, and restored again", async () => {
    const runs = await asNobody("sound");
    expect(runs.map((r) => r.steps)).toEqual([["restored:local"], ["restored:local"]]);
    expect(runs.every((r) => r.workDir === true && r.entryKept)).toBe(true);
  });

  it.each([
    ["root-0555", /backends\/onnxruntime has mode 0o555: a directory must be readable, writable and searchable by its owner/],
    ["subdir-0000", /backends\/onnxruntime\/lib has mode 0o000: a directory must be readable, writable and searchable by its owner/],
    ["file-0200", /backends\/onnxruntime\/lib\/dep\.so has mode 0o200: a file must be readable by its owner/],
    ["unreadable-file", /EACCES: permission denied, open '.*\/files\/backends\/onnxruntime\/lib\/dep\.so'/],
  ])("an entry with %s is refused and evicted at once; nothing is left that cannot be removed; the next run builds", async (scenario, problem) => {
    const [first, second] = await asNobody(scenario);
    expect(first?.localHit).toBe(true);
    expect(first?.steps).toEqual([expect.stringMatching(/^evicted:local /)]);
    expect(first?.steps[0]).toMatch(problem);
    expect(first?.entryKept).toBe(false);
    // The work dir (the install tree, and no .restore-* staging dir in it) could be removed.
    expect(first?.workDir).toBe(true);
    expect(first?.cacheTmp).toEqual([]);
    // The next run finds no entry: it builds, with no warning about this one.
    expect(second).toMatchObject({ localHit: false, steps: [], workDir: true, entryKept: false });
  });

  it("a work dir this user may not write is this machine's problem: the entry is kept for a later run", async () => {
    const [first, second] = await asNobody("locked-work-dir");
    expect(first?.steps).toEqual([expect.stringMatching(/^kept:local EACCES: permission denied, mkdir '.*\/work1\/\.restore-onnxruntime-/)]);
    expect(first?.entryKept).toBe(true);
    expect(second?.localHit).toBe(true);
  });
});
