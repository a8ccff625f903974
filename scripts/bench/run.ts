// `npm run bench`: what the cache and compose save, side by side with the plain build.py flow,
// on the real Docker engine with the fixture server repo (components of controlled CPU cost).
// Each row is the median of BENCH_RUNS (default 3) runs with min and max; both sides of a row are
// measured in the same run, alternating. Prints a markdown table; writes bench-results/latest.json.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile, open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { LocalCache } from "../../src/cache/store.js";
import { OciRemoteCache } from "../../src/cache/remote-oci.js";
import { makeRealisticBackend } from "./realistic-entry.js";
import { cacheKey, type KeyInputs } from "../../src/cache/key.js";
import { CLI, cliEnv } from "../../test/helpers/cli.js";
import { createFixtureOrg, createFixtureServerRepo, FIXTURE_BASE_IMAGE, PROJECT_ROOT } from "../../test/helpers/fixture-repo.js";
import { startTestRegistry } from "../../test/helpers/registry.js";
import { entryCheckSeconds, findSha256sumSeconds, manifestCheckSeconds, manyPathEntry } from "./validate-entry.js";

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));
const WORK_MB = Number(process.env.BENCH_WORK_MB ?? 700);
const BACKENDS = ["python", "onnxruntime", "tensorrt"];
const COMPONENTS = 1 + BACKENDS.length;
/** BENCH_ROWS=1,2 runs only those rows (default: all); 8a or 8b runs one half of row 8. */
const ROWS = new Set((process.env.BENCH_ROWS ?? "1,2,3,4,5,6,7,8,9").split(",").map((r) => r.trim()));

interface Sample {
  ms: number;
}
interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}
interface Row {
  row: string;
  triton: Stat;
  baseline: Stat;
  unit: "s" | "MB/s";
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, samples: values };
}

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const started = performance.now();
  await fn();
  return { ms: performance.now() - started };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toTimeString().slice(0, 8)}] ${message}\n`);
}

async function main(): Promise<void> {
  const temp = await mkdtempIn("triton-build-bench-");
  log(`work dir ${temp}; ${RUNS} runs per row; ${WORK_MB} MB of sha256 work per component`);
  const fixtureJson = `{\n  "default": ${WORK_MB},\n  "tritonserver": ${WORK_MB}\n}\n`;
  const server = await createFixtureServerRepo(path.join(temp, "server"), { extraFiles: { "fixture.json": fixtureJson } });
  const altTags = Array.from({ length: RUNS + 1 }, (_, i) => `r24.05-alt${i}`);
  const org = await createFixtureOrg(path.join(temp, "org"), undefined, { onnxruntime_backend: altTags });
  const presetFile = path.join(temp, "bench.yaml");
  await writeFile(
    presetFile,
    `release: "24.05"\nimages:\n  base: ${FIXTURE_BASE_IMAGE}\nfeatures: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, ${BACKENDS.join(", ")}]\n`,
  );
  const env = cliEnv(temp);
  const tb = (args: string[], extraEnv: Record<string, string> = {}) =>
    execa(
      "node",
      [CLI, "--preset", presetFile, "--source", server.path, "--github-organization", org.url, "--no-pull", "--tag", "triton-build-bench:latest", ...args],
      {
        env: { ...env, ...extraEnv },
        extendEnv: false,
        stdin: "ignore",
      },
    );
  const plain = async (extra: string[] = []) => {
    await rm(path.join(server.path, "build"), { recursive: true, force: true });
    await execa("docker", ["rm", "-f", "tritonserver_builder"], { reject: false });
    await execa(
      "python3",
      [
        "build.py",
        "--no-container-interactive",
        "--no-container-pull",
        `--image=base,${FIXTURE_BASE_IMAGE}`,
        `--github-organization=${org.url}`,
        "--enable-gpu",
        "--enable-logging",
        "--endpoint=http",
        "--backend=ensemble",
        ...BACKENDS.map((b) => `--backend=${b}`),
        ...extra,
      ],
      { cwd: server.path, stdin: "ignore" },
    );
  };

  const rows: Row[] = [];
  // Warm Docker's layer cache for both flows, so every measured run starts from the same state.
  // (Row 8 warms up its own way: one build with each fixture before its samples.)
  if (ROWS.has("1") || ROWS.has("2") || ROWS.has("3")) {
    log("warm-up: one build each way");
    await tb(["--cache-dir", path.join(temp, "cache-warmup")]);
    await plain();
  }

  // 1. cold build
  const cold = { tb: [] as number[], plain: [] as number[] };
  for (let i = 0; i < (ROWS.has("1") || ROWS.has("2") || ROWS.has("3") ? RUNS : 0); i++) {
    log(`cold build ${i + 1}/${RUNS}`);
    cold.tb.push((await timed(() => tb(["--cache-dir", path.join(temp, `cache-cold-${i}`)]))).ms / 1000);
    cold.plain.push((await timed(() => plain())).ms / 1000);
  }
  if (ROWS.has("1")) rows.push(row("1. cold build", cold.tb, cold.plain, "s", (r) => r <= 1.05, "<= 1.05x plain build.py (overhead <= 5 %)"));

  // 2. no-change rebuild (warm cache from the first cold run)
  const warmCache = path.join(temp, "cache-cold-0");
  const same = { tb: [] as number[], plain: [] as number[] };
  for (let i = 0; i < (ROWS.has("2") ? RUNS : 0); i++) {
    log(`no-change rebuild ${i + 1}/${RUNS}`);
    same.tb.push((await timed(() => tb(["--cache-dir", warmCache]))).ms / 1000);
    same.plain.push((await timed(() => plain())).ms / 1000);
  }
  if (ROWS.has("2")) rows.push(row("2. no-change rebuild", same.tb, same.plain, "s", (r) => r <= 0.1, "<= 10 % of plain build.py"));

  // 3. one component of N changed (a new onnxruntime tag each run)
  const changed = { tb: [] as number[], plain: [] as number[] };
  for (let i = 0; i < (ROWS.has("3") ? RUNS : 0); i++) {
    log(`one changed ${i + 1}/${RUNS}`);
    changed.tb.push((await timed(() => tb(["--cache-dir", warmCache, "--backend", `onnxruntime:${altTags[i]}`]))).ms / 1000);
    changed.plain.push((await timed(() => plain([`--backend=onnxruntime:${altTags[i]}`]))).ms / 1000);
  }
  const oneOfN = 1 / COMPONENTS + 0.1;
  if (ROWS.has("3"))
    rows.push(
      row(
        `3. one of ${COMPONENTS} components changed`,
        changed.tb,
        changed.plain,
        "s",
        (r) => r <= oneOfN,
        `<= 1/${COMPONENTS} + 10 % = ${(oneOfN * 100).toFixed(0)} % of plain build.py`,
      ),
    );

  // 4. restore of a synthetic 1 GiB component vs tar -x of the same bytes
  if (ROWS.has("4")) {
    const restore = await restoreRow(temp);
    if (ROWS.has("4")) rows.push(restore);
  }

  // 5. remote push and pull vs raw docker push / pull, a realistic 1 GiB entry (5L: 4 GiB)
  if (ROWS.has("5")) rows.push(...(await remoteRows(temp, REMOTE_MB, ["5a", "5b"])));
  if (ROWS.has("5L")) rows.push(...(await remoteRows(temp, REMOTE_LARGE_MB, ["5c", "5d"], LARGE_RUNS)));

  // 6. plan with a warm mirror
  if (ROWS.has("6")) {
    const planTimes: number[] = [];
    const planArgs = ["plan", "--preset", presetFile, "--source", server.path, "--github-organization", org.url, "--cache-dir", warmCache, "--json"];
    await execa("node", [CLI, ...planArgs], { env, extendEnv: false });
    for (let i = 0; i < RUNS; i++) planTimes.push((await timed(() => execa("node", [CLI, ...planArgs], { env, extendEnv: false }))).ms / 1000);
    const plan = stat(planTimes);
    rows.push({ row: "6. plan (warm mirror)", triton: plan, baseline: stat([2]), unit: "s", ratio: plan.median / 2, target: "<= 2 s", met: plan.median <= 2 });
  }

  // 9. checking a 100,000-path entry: linear in its paths (against one of half as many), and on
  // disk against find + sha256sum of the same files
  if (ROWS.has("9")) rows.push(...(await manyPathRows(temp)));

  // 7. peak RSS of the tool during a build with a large log volume
  if (ROWS.has("7")) rows.push(await rssRow(temp, org.url, presetFile));

  // 8. parallel builders: the compile phase with the default parallelism vs --parallel 1
  if (ROWS.has("8") || ROWS.has("8a") || ROWS.has("8b")) rows.push(...(await parallelRows(temp, org.url, presetFile)));

  const result = {
    date: new Date().toISOString(),
    machine: await machineDescription(),
    command: "npm run bench",
    runs: RUNS,
    workMbPerComponent: WORK_MB,
    components: COMPONENTS,
    rows,
  };
  await mkdir(path.join(PROJECT_ROOT, "bench-results"), { recursive: true });
  await writeFile(path.join(PROJECT_ROOT, "bench-results", process.env.BENCH_OUT ?? "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${markdown(result)}\n`);
  await execa("docker", ["rmi", "triton-build-bench:latest", "tritonserver", "tritonserver_buildbase", "tritonserver_cibase"], { reject: false });
  await rm(temp, { recursive: true, force: true });
}

function row(name: string, tbValues: number[], baseValues: number[], unit: "s" | "MB/s", ok: (ratio: number) => boolean, target: string, note?: string): Row {
  const triton = stat(tbValues);
  const baseline = stat(baseValues);
  const ratio = triton.median / baseline.median;
  return { row: name, triton, baseline, unit, ratio, target, met: ok(ratio), ...(note ? { note } : {}) };
}

async function mkdtempIn(prefix: string): Promise<string> {
  const dir = path.join(os.tmpdir(), `${prefix}${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

const GIB = 2 ** 30;
const inputs: KeyInputs = {
  format: 1,
  component: { kind: "backend", name: "synthetic" },
  section: "bench",
  sources: {},
  buildbase: { dockerfile: "d", baseImage: "b", baseImageId: "b" },
  platform: { os: "linux", arch: "x86_64" },
  settings: {},
};

/** 1 GiB in 8 files of random bytes (incompressible), as a backend's output tree. */
async function syntheticComponent(temp: string): Promise<{ install: string; cache: LocalCache; key: string }> {
  const install = path.join(temp, "synthetic", "install");
  const dir = path.join(install, "backends", "synthetic");
  await mkdir(dir, { recursive: true });
  const chunk = randomBytes(16 * 2 ** 20);
  for (let i = 0; i < 8; i++) {
    const handle = await open(path.join(dir, `part${i}.bin`), "w");
    for (let written = 0; written < GIB / 8; written += chunk.length) await handle.write(chunk);
    await handle.close();
  }
  const cache = new LocalCache(path.join(temp, "synthetic-cache"));
  const key = cacheKey(inputs);
  await cache.store({ key, inputs: { ...inputs }, component: { name: "synthetic", kind: "backend" }, installRoot: install });
  return { install, cache, key };
}

let synthetic: Awaited<ReturnType<typeof syntheticComponent>> | undefined;

async function restoreRow(temp: string): Promise<Row> {
  log("restore of a 1 GiB component");
  synthetic = await syntheticComponent(temp);
  const tarball = path.join(temp, "synthetic.tar");
  await execa("tar", ["-c", "-f", tarball, "-C", synthetic.install, "backends"]);
  const restore: number[] = [];
  const tar: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = path.join(temp, `restore-${i}`, "install");
    await mkdir(a, { recursive: true });
    restore.push(1024 / ((await timed(() => synthetic!.cache.restore(synthetic!.key, a))).ms / 1000));
    const b = path.join(temp, `untar-${i}`);
    await mkdir(b, { recursive: true });
    tar.push(1024 / ((await timed(() => execa("tar", ["-x", "-f", tarball, "-C", b]))).ms / 1000));
    await rm(path.join(temp, `restore-${i}`), { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  await rm(tarball, { force: true });
  return row("4. restore of a 1 GiB component (with sha256 check)", restore, tar, "MB/s", (r) => r >= 0.7, ">= 70 % of tar -x");
}

/** MB of the realistic entry of rows 5a/5b, and of the large one of rows 5c/5d (BENCH_ROWS=5L). */
const REMOTE_MB = Number(process.env.BENCH_REMOTE_MB ?? 1024);
const REMOTE_LARGE_MB = Number(process.env.BENCH_REMOTE_LARGE_MB ?? 4096);
/** Runs of the large entry (BENCH_LARGE_RUNS, default 1: each takes minutes). */
const LARGE_RUNS = Math.max(1, Number(process.env.BENCH_LARGE_RUNS ?? 1));

/**
 * 5. The remote cache against raw docker push / pull of an equivalent one-layer image (the
 * entry's manifest.json and files/ made into an image with `docker import`), side by side,
 * alternating, against the same loopback registry (docker-registry with htpasswd auth, storage
 * on the same disk), each push to an emptied registry. Ours: push = OciRemoteCache.push from the
 * local cache; pull = fetch into an empty local cache and restore into an install tree.
 */
async function remoteRows(temp: string, megabytes: number, rowNames: [string, string], runs = RUNS): Promise<Row[]> {
  const label = megabytes >= 1024 ? `${megabytes / 1024} GiB` : `${megabytes} MB`;
  log(`remote cache push/pull of a realistic ${label} component`);
  const work = path.join(temp, `remote-${megabytes}`);
  await mkdir(work, { recursive: true });
  const install = path.join(work, "install");
  const made = await makeRealisticBackend(install, "realistic", megabytes * 2 ** 20);
  log(
    `entry: ${made.files} files, ${(made.bytes / 2 ** 20).toFixed(0)} MiB (${((made.binaryBytes / made.bytes) * 100).toFixed(0)} % ELF libraries and executables, the rest text)`,
  );
  const cache = new LocalCache(path.join(work, "cache"));
  const component = { name: "realistic", kind: "backend" };
  const entryInputs: KeyInputs = { ...inputs, component, section: `realistic-${megabytes}` };
  const key = cacheKey(entryInputs);
  await cache.store({ key, inputs: entryInputs, component, installRoot: install });
  await rm(install, { recursive: true, force: true });
  const entry = await cache.outgoing(key);
  if (!entry) throw new Error("the realistic entry is missing");
  const registry = await startTestRegistry(path.join(work, "registry"));
  const dockerEnv = { ...process.env, ...registry.env };
  const raw = `${registry.address}/raw:latest`;
  await execa("sh", ["-c", `tar -c -C ${cache.entryDir(key)} manifest.json files | docker import - ${raw}`], { env: dockerEnv });
  const push: number[] = [];
  const rawPush: number[] = [];
  const pull: number[] = [];
  const rawPull: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      log(`${label}: run ${i + 1}/${runs}`);
      // Each push goes to an empty registry: it deduplicates blobs, which would hide the upload.
      await registry.wipe();
      rawPush.push((await timed(() => execa("docker", ["push", raw], { env: dockerEnv }))).ms / 1000);
      await registry.wipe();
      const remote = new OciRemoteCache(`${registry.address}/bench`, "readwrite", { env: registry.env });
      push.push(
        (
          await timed(async () => {
            const pushed = await remote.push(component, key, entry, { replace: false });
            if (pushed.status !== "pushed") throw new Error(`remote push failed: ${JSON.stringify(pushed)}`);
          })
        ).ms / 1000,
      );
      const fresh = new LocalCache(path.join(work, `pull-cache-${i}`));
      const restored = path.join(work, `restored-${i}`, "install");
      await mkdir(restored, { recursive: true });
      pull.push(
        (
          await timed(async () => {
            const fetched = await remote.fetch(component, key, fresh.incoming(key, component));
            if (fetched.status !== "hit") throw new Error(`remote fetch failed: ${JSON.stringify(fetched)}`);
            await fresh.restore(key, restored);
          })
        ).ms / 1000,
      );
      await rm(path.join(work, `pull-cache-${i}`), { recursive: true, force: true });
      await rm(path.join(work, `restored-${i}`), { recursive: true, force: true });
      await execa("docker", ["push", raw], { env: dockerEnv });
      await execa("docker", ["rmi", raw], { env: dockerEnv });
      rawPull.push((await timed(() => execa("docker", ["pull", "-q", raw], { env: dockerEnv }))).ms / 1000);
      log(
        `${label}: push ${push.at(-1)?.toFixed(1)} s vs docker push ${rawPush.at(-1)?.toFixed(1)} s; pull ${pull.at(-1)?.toFixed(1)} s vs docker pull ${rawPull.at(-1)?.toFixed(1)} s`,
      );
    }
  } finally {
    await execa("docker", ["rmi", raw], { reject: false });
    await registry.close();
    await rm(work, { recursive: true, force: true });
  }
  const what = `a realistic ${label} component`;
  return [
    row(`${rowNames[0]}. remote cache push of ${what}`, push, rawPush, "s", (r) => r <= 1.0, "<= 1.0x raw docker push", "from the local cache, no daemon"),
    row(
      `${rowNames[1]}. remote cache pull and restore of ${what}`,
      pull,
      rawPull,
      "s",
      (r) => r <= 1.0,
      "<= 1.0x raw docker pull",
      "fetch into an empty cache (every file's sha256 checked) and restore into an install tree",
    ),
  ];
}

async function rssRow(temp: string, orgUrl: string, presetFile: string): Promise<Row> {
  log("peak RSS during a build with a large log volume");
  const loud = await createFixtureServerRepo(path.join(temp, "loud-server"), {
    extraFiles: { "fixture.json": `{\n  "default": 50,\n  "python_log_lines": 1000000\n}\n` },
  });
  const peaks: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const child = execa(
      "node",
      [CLI, "--preset", presetFile, "--source", loud.path, "--github-organization", orgUrl, "--no-pull", "--no-cache", "--tag", "triton-build-bench:latest"],
      {
        env: cliEnv(temp),
        extendEnv: false,
        stdin: "ignore",
      },
    );
    let peak = 0;
    const poll = setInterval(() => {
      readFile(`/proc/${child.pid}/status`, "utf8")
        .then((status) => {
          const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
          peak = Math.max(peak, kb);
        })
        .catch(() => undefined);
    }, 50);
    await child.finally(() => clearInterval(poll));
    peaks.push(peak / 1024);
  }
  const triton = stat(peaks);
  return {
    row: "7. peak RSS of the tool (build printing 1M log lines)",
    triton,
    baseline: stat([150]),
    unit: "s",
    ratio: triton.median / 150,
    target: "<= 150 MB",
    met: triton.median <= 150,
    note: "MB, not seconds",
  };
}

const MANY_PATHS = 100_000;

async function manyPathRows(temp: string): Promise<Row[]> {
  log(`checking an entry of ${MANY_PATHS} paths`);
  const full: number[] = [];
  const half: number[] = [];
  // Once first, unmeasured: the first call pays the JIT, which is not what grows with the paths.
  manifestCheckSeconds(MANY_PATHS / 5);
  for (let i = 0; i < RUNS; i++) {
    full.push(manifestCheckSeconds(MANY_PATHS));
    half.push(manifestCheckSeconds(MANY_PATHS / 2));
  }
  const entry = await manyPathEntry(temp, MANY_PATHS);
  const check: number[] = [];
  const coreutils: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    check.push(await entryCheckSeconds(entry.cache, entry.key));
    coreutils.push(await findSha256sumSeconds(entry.filesDir));
  }
  await rm(path.join(temp, "many-paths"), { recursive: true, force: true });
  return [
    row("9a. manifest checks of a 100,000-path entry vs a 50,000-path one", full, half, "s", (r) => r <= 2.5, "<= 2.5 (linear: twice the paths)"),
    row("9b. check of that entry on disk (walk, every sha256) vs find + sha256sum", check, coreutils, "s", (r) => r <= 3, "<= 3x coreutils"),
  ];
}

/**
 * The compile phase (`builder` in --report) of the same cold build with the default number of
 * builders and with --parallel 1, alternating: once with components whose cost is waiting
 * (fixture waits of 6, 3, 3 and 3 s, as clones and downloads are), once with the CPU-bound fixture
 * (WORK_MB of sha256 per component, spread over each builder's -j share).
 */
async function parallelRows(temp: string, orgUrl: string, presetFile: string): Promise<Row[]> {
  const fixtures = {
    waiting: `{\n  "default": 0,\n  "tritonserver_wait_s": 6,\n  ${BACKENDS.map((b) => `"${b}_wait_s": 3`).join(",\n  ")}\n}\n`,
    cpu: `{\n  "default": ${WORK_MB},\n  "tritonserver": ${WORK_MB}\n}\n`,
  };
  const rows: Row[] = [];
  for (const [kind, fixtureJson] of Object.entries(fixtures)) {
    if (!ROWS.has("8") && !ROWS.has(kind === "waiting" ? "8a" : "8b")) continue;
    log(`parallel builders, ${kind} fixture`);
    const server = await createFixtureServerRepo(path.join(temp, `parallel-${kind}`), { extraFiles: { "fixture.json": fixtureJson } });
    const compile = async (extra: string[]) => {
      const report = path.join(temp, `parallel-${kind}.json`);
      await execa(
        "node",
        [
          CLI,
          "--preset",
          presetFile,
          "--source",
          server.path,
          "--github-organization",
          orgUrl,
          "--no-pull",
          "--no-cache",
          "--tag",
          "triton-build-bench:latest",
          "--report",
          report,
          ...extra,
        ],
        { env: cliEnv(temp), extendEnv: false, stdin: "ignore" },
      );
      const phases = (JSON.parse(await readFile(report, "utf8")) as { phases: Array<{ phase: string; durationMs: number }> }).phases;
      return (phases.find((p) => p.phase === "builder")?.durationMs ?? Number.NaN) / 1000;
    };
    await compile([]);
    const parallel: number[] = [];
    const serial: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      parallel.push(await compile([]));
      serial.push(await compile(["--parallel", "1"]));
    }
    rows.push(
      kind === "waiting"
        ? row("8a. compile phase, components that wait (6, 3, 3, 3 s): default parallelism vs --parallel 1", parallel, serial, "s", (r) => r <= 0.6, "<= 0.6")
        : row(
            `8b. compile phase, CPU-bound components (${WORK_MB} MB of sha256 each): default parallelism vs --parallel 1`,
            parallel,
            serial,
            "s",
            (r) => r <= 1.05,
            "<= 1.05 (no slower)",
          ),
    );
  }
  return rows;
}

async function machineDescription(): Promise<string> {
  const docker = await execa("docker", ["info", "--format", "{{.ServerVersion}} {{.Driver}}"], { reject: false });
  const disk = await execa("df", ["-h", os.tmpdir()], { reject: false });
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / GIB)} GiB RAM, Linux ${os.release()}, Node ${process.version}, Docker ${String(docker.stdout).trim()} (storage driver), tmp on ${String(disk.stdout).split("\n")[1]?.split(/\s+/)[0] ?? "?"}`;
}

function fmt(value: number, unit: string): string {
  return unit === "MB/s" ? `${value.toFixed(0)}` : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function markdown(result: { date: string; machine: string; runs: number; rows: Row[] }): string {
  const lines = [
    `Benchmarks (${result.date}, median of ${result.runs} runs, [min-max]); machine: ${result.machine}`,
    "",
    "| row | triton-build | baseline | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of result.rows) {
    const unit = r.note === "MB, not seconds" ? "MB" : r.unit;
    const cell = (s: Stat) => `${fmt(s.median, r.unit)} ${unit} [${fmt(s.min, r.unit)}-${fmt(s.max, r.unit)}]`;
    lines.push(
      `| ${r.row} | ${cell(r.triton)} | ${r.row.startsWith("6.") || r.row.startsWith("7.") ? "-" : cell(r.baseline)} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.met ? "yes" : "**no**"} |`,
    );
  }
  return lines.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
