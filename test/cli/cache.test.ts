// `triton-build cache ls|stats|explain|verify|prune|clear` run as users run them (the built CLI),
// against a cache filled through the LocalCache API: no Docker involved.
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cacheKey, sha256, type KeyInputs } from "../../src/cache/key.js";
import { LocalCache } from "../../src/cache/store.js";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli, type CliResult } from "../helpers/cli.js";
import { createFixtureOrg, createFixtureServerRepo, FIXTURE_BASE_IMAGE } from "../helpers/fixture-repo.js";

let temp: string;
/** Not the TRITON_BUILD_CACHE_DIR the helpers set: every command here must honour --cache-dir. */
let cacheDir: string;
let cache: LocalCache;

beforeEach(async () => {
  temp = await makeTempDir("tb-cache-cli-");
  cacheDir = path.join(temp, "cache-under-test");
  cache = new LocalCache(cacheDir);
});
afterEach(() => removeTempDir(temp));

const DAY = 86400_000;

function keyInputs(name: string, kind: string, variant: string, commit = "c".repeat(40)): KeyInputs {
  return {
    format: 1,
    component: { kind, name },
    section: sha256(`section of ${name} ${variant}`),
    sources: { repo: { url: `https://example.invalid/${name}_backend.git`, ref: "r24.05", commit } },
    buildbase: { dockerfile: "d".repeat(64), baseImage: "base:24.05", baseImageId: "sha256:".padEnd(71, "e") },
    platform: { os: "linux", arch: "x86_64" },
    settings: {},
  };
}

/** Stores a component whose one output file has `bytes` bytes; returns its key. */
async function addEntry(options: {
  name: string;
  kind?: "backend" | "core";
  bytes: number;
  variant?: string;
  commit?: string;
  tag?: string;
  buildDurationMs?: number;
}): Promise<string> {
  const kind = options.kind ?? "backend";
  const inputs = keyInputs(options.name, kind, options.variant ?? "1", options.commit);
  const key = cacheKey(inputs);
  const install = path.join(temp, `install-${key.slice(0, 12)}`);
  const file = kind === "core" ? path.join(install, "bin", "tritonserver") : path.join(install, "backends", options.name, `libtriton_${options.name}.so`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, Buffer.alloc(options.bytes, 0x61));
  const stored = await cache.store({
    key,
    inputs,
    component: { name: options.name, kind, ...(options.tag ? { tag: options.tag } : {}) },
    installRoot: install,
    ...(options.buildDurationMs !== undefined ? { buildDurationMs: options.buildDurationMs } : {}),
  });
  expect(stored).toBe("stored");
  return key;
}

async function setLastUsed(key: string, when: Date): Promise<void> {
  await utimes(path.join(cache.entryDir(key), "last-used"), when, when);
}

async function cli(...args: string[]): Promise<CliResult> {
  return runCli(["cache", ...args, "--cache-dir", cacheDir], { tempDir: temp });
}

/** `cli`, expecting success and nothing on stderr. */
async function ok(...args: string[]): Promise<string> {
  const result = await cli(...args);
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.stderr).toBe("");
  return result.stdout;
}

interface LsEntry {
  key: string;
  component: { name: string; kind: string; tag?: string };
  bytes: number;
  files: number;
  createdAt: string;
  lastUsed: string;
  buildDurationMs: number | null;
}

const lsJson = async () => JSON.parse(await ok("ls", "--json")) as LsEntry[];
const keysLeft = async () => (await lsJson()).map((e) => e.key).sort();

/** The rows of a text table, cells split where columns are padded apart. */
const rows = (text: string) => text.split("\n").map((line) => line.trim().split(/\s{2,}/));

const ls = (p: string) => readdir(p).catch(() => [] as string[]);

/** Leftover of a writer that died: a tmp/ dir named as this host's writer with a pid that is gone. */
async function deadWritersLeftover(key: string): Promise<string> {
  const dead = spawn("sh", ["-c", "exit 0"]);
  await new Promise((resolve) => dead.on("exit", resolve));
  const made = await cache.newTempDir(key);
  const leftover = made.replace(/\.(\d+)\.([0-9a-f]+)$/, `.${dead.pid}.abcd`);
  await rename(made, leftover);
  await writeFile(path.join(leftover, "half"), "partial");
  return leftover;
}

async function flipFirstByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  await writeFile(file, bytes);
}

describe("an empty or missing cache", () => {
  it("a cache dir that does not exist: every command says so plainly, exits 0, and creates nothing", async () => {
    expect(await ok("ls")).toBe(`no entries in ${path.join(cacheDir, "components", "v1")}: the cache is empty`);
    expect(await lsJson()).toEqual([]);
    expect(JSON.parse(await ok("stats", "--json"))).toEqual({
      dir: path.join(cacheDir, "components", "v1"),
      entries: 0,
      bytes: 0,
      recentRuns: 0,
      hitRatio: null,
      buildTimeStoredMs: 0,
    });
    expect(rows(await ok("stats"))).toContainEqual(["hit ratio", "no runs yet"]);
    // Without a preset there is nothing to explain about a name the cache has no entry of.
    expectCleanFailure(
      await cli("explain", "onnxruntime"),
      2,
      `no cache entries for 'onnxruntime' in ${path.join(cacheDir, "components", "v1")}: the cache is empty`,
    );
    expect(await ok("verify")).toBe("0 entries checked, 0 evicted");
    await expect(stat(cacheDir)).rejects.toThrow(/ENOENT/);
    expect(await ok("prune", "--max-size", "1GB")).toBe("0 entries removed, 0 B freed, 0 B kept");
    expect(await ok("clear")).toBe("0 entries removed");
  });

  it("an empty cache dir that exists", async () => {
    await mkdir(path.join(cacheDir, "components", "v1", "entries"), { recursive: true });
    expect(await ok("ls")).toBe(`no entries in ${path.join(cacheDir, "components", "v1")}: the cache is empty`);
    expect(JSON.parse(await ok("stats", "--json"))).toMatchObject({ entries: 0, bytes: 0, hitRatio: null });
    expect(await ok("verify")).toBe("0 entries checked, 0 evicted");
  });
});

describe("cache ls", () => {
  it("lists entries, most recently used first, with key, component, tag, size, build time and last use", async () => {
    const onnx = await addEntry({ name: "onnxruntime", bytes: 1500, tag: "r24.05", buildDurationMs: 95_000 });
    const core = await addEntry({ name: "core", kind: "core", bytes: 2_500_000 });
    await setLastUsed(onnx, new Date("2024-04-01T12:30:05Z"));
    await setLastUsed(core, new Date("2024-03-01T10:00:00Z"));

    const table = rows(await ok("ls"));
    expect(table).toEqual([
      ["KEY", "COMPONENT", "TAG", "SIZE", "BUILD TIME", "LAST USED"],
      [onnx.slice(0, 12), "onnxruntime", "r24.05", "1.5 KB", "1m35s", "2024-04-01 12:30:05"],
      [core.slice(0, 12), "core", "-", "2.5 MB", "-", "2024-03-01 10:00:00"],
    ]);

    await setLastUsed(core, new Date("2024-05-01T00:00:00Z"));
    const json = await lsJson();
    expect(json.map((e) => e.key)).toEqual([core, onnx]);
    expect(json[1]).toEqual({
      key: onnx,
      component: { name: "onnxruntime", kind: "backend", tag: "r24.05" },
      bytes: 1500,
      files: 1,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastUsed: "2024-04-01T12:30:05.000Z",
      buildDurationMs: 95_000,
    });
    expect(json[0]).toMatchObject({ key: core, component: { name: "core", kind: "core" }, bytes: 2_500_000, files: 1, buildDurationMs: null });
  });

  it("--cache-dir wins over TRITON_BUILD_CACHE_DIR, which is used without it", async () => {
    await addEntry({ name: "onnxruntime", bytes: 10 });
    const fromEnv = await runCli(["cache", "ls", "--json"], { tempDir: temp, env: { TRITON_BUILD_CACHE_DIR: cacheDir } });
    expect(fromEnv.exitCode, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toHaveLength(1);
    const elsewhere = await runCli(["cache", "ls", "--json", "--cache-dir", path.join(temp, "other")], {
      tempDir: temp,
      env: { TRITON_BUILD_CACHE_DIR: cacheDir },
    });
    expect(JSON.parse(elsewhere.stdout)).toEqual([]);
  });
});

describe("cache stats", () => {
  it("entries, bytes, the build time they hold, and the hit ratio of the last 20 runs", async () => {
    await addEntry({ name: "onnxruntime", bytes: 1500, buildDurationMs: 95_000 });
    await addEntry({ name: "core", kind: "core", bytes: 2500, buildDurationMs: 5_000 });
    // an old run beyond the last 20, which must not count
    await cache.recordRun({ preset: "old", hits: 0, misses: 50 });
    for (let i = 0; i < 20; i++) await cache.recordRun({ preset: "p", ...(i % 2 ? { hits: 3, misses: 1 } : { hits: 1, misses: 3 }) });

    expect(JSON.parse(await ok("stats", "--json"))).toEqual({
      dir: path.join(cacheDir, "components", "v1"),
      entries: 2,
      bytes: 4000,
      recentRuns: 20,
      hitRatio: 0.5,
      buildTimeStoredMs: 100_000,
    });
    expect(rows(await ok("stats"))).toEqual([
      ["directory", path.join(cacheDir, "components", "v1")],
      ["entries", "2"],
      ["size", "4.0 KB"],
      ["build time they hold", "1m40s"],
      ["hit ratio", "50% of 80 lookups in the last 20 run(s)"],
    ]);
  });

  it("a hit ratio from a few runs", async () => {
    await cache.recordRun({ preset: "p", hits: 3, misses: 1 });
    await cache.recordRun({ preset: "p", hits: 4, misses: 0 });
    const stats = JSON.parse(await ok("stats", "--json")) as { hitRatio: number; recentRuns: number; entries: number };
    expect(stats).toMatchObject({ hitRatio: 7 / 8, recentRuns: 2, entries: 0 });
    expect(rows(await ok("stats"))).toContainEqual(["hit ratio", "88% of 8 lookups in the last 2 run(s)"]);
  });
});

describe("cache explain", () => {
  it("without a preset: the component's entries, newest first, with their key inputs", async () => {
    const older = await addEntry({ name: "onnxruntime", bytes: 1500, variant: "a", commit: "1".repeat(40) });
    await sleep(20);
    const newer = await addEntry({ name: "onnxruntime", bytes: 1500, variant: "b", commit: "2".repeat(40) });
    await addEntry({ name: "core", kind: "core", bytes: 10 });

    const text = await ok("explain", "onnxruntime");
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(`2 entries for onnxruntime in ${path.join(cacheDir, "components", "v1")}, newest first:`);
    const listed = lines.filter((l) => l.startsWith("- ")).map((l) => l.slice(2, 66));
    expect(listed).toEqual([newer, older]);
    expect(text).toMatch(new RegExp(`^- ${newer} \\(1\\.5 KB, created \\d{4}-\\d\\d-\\d\\dT[^)]+\\)$`, "m"));
    expect(text).toContain(`    repo: https://example.invalid/onnxruntime_backend.git r24.05 -> ${"2".repeat(40)}`);
    expect(text).toContain(`    repo: https://example.invalid/onnxruntime_backend.git r24.05 -> ${"1".repeat(40)}`);
    expect(text).toContain(`    section text sha256 ${sha256("section of onnxruntime b").slice(0, 16)}`);
    expect(text).toContain("    base image base:24.05 -> sha256:eeee");
    expect(text.indexOf("2".repeat(40))).toBeLessThan(text.indexOf("1".repeat(40)));
    expect(text).not.toContain("core");

    // A name without entries: what the cache has, and the nearest name.
    const onnx = await cli("explain", "onnx");
    expectCleanFailure(onnx, 2, "no cache entries for 'onnx' in ");
    expect(onnx.stderr).toContain("expected one of core, onnxruntime (did you mean 'onnxruntime'?)");
    expect(onnx.stderr).toContain("hint: with --preset NAME, `cache explain` also says whether");
    expectCleanFailure(await cli("explain", "python"), 2, "expected one of core, onnxruntime");
    expect(await ok("explain", "core")).toMatch(/^1 entry for core in \S+, newest first:\n- [0-9a-f]{64} \(10 B, created /);
  });

  describe("with a preset (fixture server repo; no Docker daemon)", () => {
    let args: string[];
    let env: Record<string, string>;
    let orgUrl: string;

    beforeEach(async () => {
      const server = await createFixtureServerRepo(path.join(temp, "server"));
      orgUrl = (await createFixtureOrg(path.join(temp, "org"))).url;
      args = [
        "--preset",
        "trtllm-plus-onnx",
        "--image",
        `base=${FIXTURE_BASE_IMAGE}`,
        "--source",
        server.path,
        "--github-organization",
        orgUrl,
        "--no-pull",
        "--cache-dir",
        cacheDir,
      ];
      // A daemon that cannot be reached, whatever this machine has: keys need its platform.
      env = { DOCKER_HOST: `unix://${path.join(temp, "no-docker.sock")}` };
    });

    it("shows the key inputs now and why it misses, then the entries it has", async () => {
      const stored = await addEntry({ name: "onnxruntime", bytes: 1500 });
      const result = await runCli(["cache", "explain", "onnxruntime", ...args], { tempDir: temp, env });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toBe("");
      const commit = String((await execa("git", ["ls-remote", `${orgUrl}/onnxruntime_backend.git`, "refs/heads/r24.05"])).stdout).split("\t")[0];
      expect(commit).toMatch(/^[0-9a-f]{40}$/);
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines.slice(0, 4)).toEqual(["onnxruntime: miss", "  the Docker daemon's platform is unknown (is the daemon reachable?)", "", "key inputs now:"]);
      expect(result.stdout).toContain(`  repo: ${orgUrl}/onnxruntime_backend.git r24.05 -> ${commit}`);
      expect(result.stdout).toContain(`  base image ${FIXTURE_BASE_IMAGE} -> unknown`);
      expect(result.stdout).toMatch(/platform unknown\/unknown/);
      expect(result.stdout).toContain(`1 entry for onnxruntime in ${path.join(cacheDir, "components", "v1")}, newest first:`);
      expect(result.stdout).toContain(`- ${stored} (1.5 KB, created `);
    });

    it("a component the preset does not build is a usage error naming the ones it does", async () => {
      const result = await runCli(["cache", "explain", "tensorflow", ...args], { tempDir: temp, env });
      expectCleanFailure(result, 2, "preset 'trtllm-plus-onnx' caches no component 'tensorflow'");
      expect(result.stderr).toContain("caches no component 'tensorflow'; expected one of core, python, onnxruntime, tensorrtllm\n");
      const near = await runCli(["cache", "explain", "onnx", ...args], { tempDir: temp, env });
      expectCleanFailure(near, 2, "expected one of core, python, onnxruntime, tensorrtllm (did you mean 'onnxruntime'?)");
    });

    it("the CI section is not a cached component, and the hint does not say it is", async () => {
      const result = await runCli(["cache", "explain", "ci", ...args], { tempDir: temp, env });
      expectCleanFailure(result, 2, "preset 'trtllm-plus-onnx' caches no component 'ci'");
      expect(result.stderr).not.toMatch(/hint: .*\bci\b/);
    });
  });
});

describe("cache verify", () => {
  it("a sound cache: every entry checked, none evicted", async () => {
    await addEntry({ name: "onnxruntime", bytes: 1500 });
    await addEntry({ name: "core", kind: "core", bytes: 10 });
    const before = await keysLeft();
    expect(await ok("verify")).toBe("2 entries checked, 0 evicted");
    expect(await keysLeft()).toEqual(before);
  });

  it("a flipped byte is found and its entry evicted; the others stay (exit 0)", async () => {
    const bad = await addEntry({ name: "onnxruntime", bytes: 1500 });
    const good = await addEntry({ name: "core", kind: "core", bytes: 10 });
    await flipFirstByte(path.join(cache.entryDir(bad), "files", "backends", "onnxruntime", "libtriton_onnxruntime.so"));

    expect(await ok("verify")).toBe(
      `evicted ${bad.slice(0, 12)} (onnxruntime): backends/onnxruntime/libtriton_onnxruntime.so does not match its sha256\n2 entries checked, 1 evicted`,
    );
    expect(await keysLeft()).toEqual([good]);
    await expect(stat(cache.entryDir(bad))).rejects.toThrow(/ENOENT/);
    expect(await ok("verify")).toBe("1 entries checked, 0 evicted");
  });

  it("an entry with an unreadable manifest is evicted, and a dead writer's leftovers removed", async () => {
    const good = await addEntry({ name: "onnxruntime", bytes: 1500 });
    const broken = await addEntry({ name: "core", kind: "core", bytes: 10 });
    await writeFile(path.join(cache.entryDir(broken), "manifest.json"), '{"format": 1, "key": "');
    const leftover = await deadWritersLeftover("f".repeat(64));

    expect(await ok("verify")).toBe(`evicted ${broken.slice(0, 12)}: no readable manifest\n1 entries checked, 1 evicted, 1 unfinished write(s) removed`);
    expect(await keysLeft()).toEqual([good]);
    await expect(stat(cache.entryDir(broken))).rejects.toThrow(/ENOENT/);
    await expect(stat(leftover)).rejects.toThrow(/ENOENT/);
  });
});

describe("cache verify: what is no entry (issue 12)", () => {
  it("stray names under entries/ are removed, not only reported; sound entries stay", async () => {
    const good = await addEntry({ name: "onnxruntime", bytes: 1500 });
    const entries = path.join(cache.root, "entries");
    // a directory whose name is no key, a key under the wrong prefix, a file where a prefix dir goes
    await mkdir(path.join(entries, "zz", "junk", "deeper"), { recursive: true });
    await writeFile(path.join(entries, "zz", "junk", "deeper", "x"), "x");
    const misplaced = "cd".padEnd(64, "0");
    await mkdir(path.join(entries, "ab", misplaced), { recursive: true });
    await writeFile(path.join(entries, "stray-file"), "x");

    const text = await ok("verify");
    expect(text.split("\n")).toEqual([
      `evicted entries/ab/${misplaced}: not a cache entry`,
      "evicted entries/stray-file: not a cache entry",
      "evicted entries/zz: not a cache entry",
      "1 entries checked, 3 evicted",
    ]);
    // (empty prefix dirs stay, as after `cache clear`)
    expect((await ls(entries)).filter((name) => name !== "ab").sort()).toEqual([good.slice(0, 2)]);
    expect(await ls(path.join(entries, "ab"))).toEqual(good.startsWith("ab") ? [good] : []);
    expect(await keysLeft()).toEqual([good]);
    expect(await ok("verify")).toBe("1 entries checked, 0 evicted");
  });
});

describe("a cache dir that is a file", () => {
  it("every command is an environment error (exit 3) naming it, not 'the cache is empty'", async () => {
    await writeFile(cacheDir, "not a directory\n");
    for (const args of [["ls"], ["ls", "--json"], ["stats"], ["verify"], ["prune", "--max-size", "1GB"], ["clear"]]) {
      const result = await cli(...args);
      expectCleanFailure(result, 3, `cannot use the cache dir ${cacheDir}: a file stands where a directory is needed`);
      expect(result.stdout, args.join(" ")).toBe("");
    }
    expect(await readFile(cacheDir, "utf8")).toBe("not a directory\n");
  });
});

describe("cache prune", () => {
  /** alpha, beta, gamma stored in that order, 1000 bytes each; least recently used: beta, then gamma, then alpha. */
  async function threeEntries(): Promise<{ alpha: string; beta: string; gamma: string }> {
    const alpha = await addEntry({ name: "alpha", bytes: 1000 });
    const beta = await addEntry({ name: "beta", bytes: 1000 });
    const gamma = await addEntry({ name: "gamma", bytes: 1000 });
    await setLastUsed(beta, new Date(Date.now() - 40 * DAY));
    await setLastUsed(gamma, new Date(Date.now() - 10 * DAY));
    await setLastUsed(alpha, new Date(Date.now() - 3600_000));
    return { alpha, beta, gamma };
  }

  const removedLines = (text: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith("removed "))
      .map((l) => l.split(" ")[1]);

  it("--max-size removes the least recently used entries until the rest fit", async () => {
    const { alpha, beta, gamma } = await threeEntries();
    const text = await ok("prune", "--max-size", "2KB");
    expect(removedLines(text)).toEqual([beta.slice(0, 12)]);
    expect(text).toMatch(new RegExp(`^removed ${beta.slice(0, 12)} beta \\(1\\.0 KB, last used \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)$`, "m"));
    expect(text).toContain("1 entries removed, 1.0 KB freed, 2.0 KB kept");
    expect(await keysLeft()).toEqual([alpha, gamma].sort());

    const smaller = await ok("prune", "--max-size", "1000");
    expect(removedLines(smaller)).toEqual([gamma.slice(0, 12)]);
    expect(await keysLeft()).toEqual([alpha]);
  });

  it("--max-size removes in least-recently-used order, not the order they were stored", async () => {
    const { alpha, beta, gamma } = await threeEntries();
    const text = await ok("prune", "--max-size", "0");
    expect(removedLines(text)).toEqual([beta, gamma, alpha].map((k) => k.slice(0, 12)));
    expect(text).toContain("3 entries removed, 3.0 KB freed, 0 B kept");
    expect(await keysLeft()).toEqual([]);
  });

  it("--older-than removes the entries not used for that long", async () => {
    const { alpha, beta, gamma } = await threeEntries();
    expect(removedLines(await ok("prune", "--older-than", "30d"))).toEqual([beta.slice(0, 12)]);
    expect(await keysLeft()).toEqual([alpha, gamma].sort());
    expect(removedLines(await ok("prune", "--older-than", "2w"))).toEqual([]);
    expect(removedLines(await ok("prune", "--older-than", "5d"))).toEqual([gamma.slice(0, 12)]);
    expect(await keysLeft()).toEqual([alpha]);
  });

  it("both together: the old ones first, then least recently used down to the size", async () => {
    const { alpha, beta, gamma } = await threeEntries();
    const text = await ok("prune", "--older-than", "30d", "--max-size", "1.5KB");
    expect(removedLines(text)).toEqual([beta.slice(0, 12), gamma.slice(0, 12)]);
    expect(await keysLeft()).toEqual([alpha]);
  });

  it("a use refreshes an entry: restored recently, it is kept", async () => {
    const { alpha, beta, gamma } = await threeEntries();
    const install = path.join(temp, "restore-here", "install");
    await mkdir(install, { recursive: true });
    await cache.restore(beta, install);
    expect(removedLines(await ok("prune", "--max-size", "2KB"))).toEqual([gamma.slice(0, 12)]);
    expect(await keysLeft()).toEqual([alpha, beta].sort());
  });

  for (const [flag, value, message] of [
    ["--max-size", "10XB", "--max-size 10XB: expected a size such as 200GB or 512MiB"],
    ["--max-size", "-5GB", "--max-size -5GB: expected a size such as 200GB or 512MiB"],
    ["--older-than", "5y", "--older-than 5y: expected a duration such as 30d, 12h or 90m"],
    ["--older-than", "-3d", "--older-than -3d: expected a duration such as 30d, 12h or 90m"],
  ] as const) {
    it(`${flag} ${value} is a usage error (exit 2) that removes nothing`, async () => {
      await threeEntries();
      const separate = await cli("prune", flag, value);
      expectCleanFailure(separate, 2, message);
      expect(separate.stdout).toBe("");
      const joined = await cli("prune", `${flag}=${value}`);
      expectCleanFailure(joined, 2, message);
      expect(await keysLeft()).toHaveLength(3);
    });
  }

  it("without --max-size or --older-than it is a usage error", async () => {
    await threeEntries();
    expectCleanFailure(await cli("prune"), 2, "cache prune needs --max-size or --older-than (or both)");
    expect(await keysLeft()).toHaveLength(3);
  });
});

describe("cache clear", () => {
  it("removes every entry, broken ones and dead writers' leftovers too", async () => {
    await addEntry({ name: "onnxruntime", bytes: 1500 });
    await addEntry({ name: "python", bytes: 10 });
    const broken = await addEntry({ name: "core", kind: "core", bytes: 10 });
    await writeFile(path.join(cache.entryDir(broken), "manifest.json"), "not json");
    await deadWritersLeftover("f".repeat(64));

    expect(await ok("clear")).toBe("2 entries removed");
    expect(await lsJson()).toEqual([]);
    const entries = path.join(cache.root, "entries");
    for (const prefix of await ls(entries)) expect(await ls(path.join(entries, prefix)), prefix).toEqual([]);
    expect(await ls(path.join(cache.root, "tmp"))).toEqual([]);
    expect(JSON.parse(await ok("stats", "--json"))).toMatchObject({ entries: 0, bytes: 0 });
    expect(await ok("clear")).toBe("0 entries removed");
  });
});
