import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";
import { pushCraftedEntry } from "../helpers/crafted-entry.js";
import { startTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { createWorld, imageFiles, parseNdjson, treeDifferences, type World } from "../helpers/world.js";

interface Report {
  runId: string;
  phases: Array<{ phase: string; status: string }>;
  components: Array<{ name: string; status: string; cacheSource?: string }>;
}

let temp: string;
let world: World;
let registry: TestRegistry;
let preset: string;

async function build(name: string, options: { cacheDir: string; remote: string; mode: "read" | "readwrite"; extra?: string[]; env?: Record<string, string> }) {
  const tag = world.tag(name);
  const report = path.join(temp, `${name}.json`);
  const result = await runCli(
    [
      "--preset",
      preset,
      ...world.args(),
      "--cache-dir",
      options.cacheDir,
      "--remote-cache",
      options.remote,
      "--remote-cache-mode",
      options.mode,
      "--tag",
      tag,
      "--report",
      report,
      ...(options.extra ?? []),
    ],
    { tempDir: temp, env: { ...registry.env, ...(options.env ?? {}) } },
  );
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  return { tag, result, report: JSON.parse(await readFile(report, "utf8")) as Report };
}

const statuses = (report: Report) => Object.fromEntries(report.components.map((c) => [c.name, `${c.status}${c.cacheSource ? `:${c.cacheSource}` : ""}`]));

beforeAll(async () => {
  temp = await makeTempDir("tb-remote-");
  world = await createWorld(path.join(temp, "world"), { fixtureJson: `{\n  "default": 100\n}\n`, orgTags: { onnxruntime_backend: ["r24.05-alt"] } });
  preset = await world.preset("shared", "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n");
  registry = await startTestRegistry(path.join(temp, "registry"));
});
afterAll(async () => {
  await registry?.stop();
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("remote cache in a real registry", () => {
  let remote: string;
  let imageA: Map<string, string>;

  it("machine A builds and pushes; machine B pulls every component: no builder container, the same image", async () => {
    remote = `${registry.address}/triton-cache`;
    const a = await build("machine-a", { cacheDir: path.join(temp, "cache-a"), remote, mode: "readwrite" });
    expect(Object.values(statuses(a.report)).filter((s) => s === "built")).toHaveLength(4);
    const tags = await registry.tags("triton-cache");
    expect(tags.map((t) => t.replace(/-[0-9a-f]{64}$/, ""))).toEqual(["checksum", "core", "onnxruntime", "python"]);
    imageA = await imageFiles(a.tag);
    await execa("docker", ["rmi", a.tag]);
    // no entry image stays behind on the machine
    expect(String((await execa("docker", ["images", "--format", "{{.Repository}}", `${registry.address}/triton-cache`])).stdout)).toBe("");

    const since = Math.floor(Date.now() / 1000);
    const b = await build("machine-b", { cacheDir: path.join(temp, "cache-b"), remote, mode: "read" });
    const until = Math.ceil(Date.now() / 1000) + 1;
    expect(statuses(b.report)).toEqual({
      core: "cached:remote",
      python: "cached:remote",
      onnxruntime: "cached:remote",
      checksum: "cached:remote",
      ci: "skipped",
    });
    expect(b.report.phases.find((p) => p.phase === "builder")?.status).toBe("skipped");
    const created = await execa("docker", [
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      "--filter",
      "type=container",
      "--filter",
      "event=create",
      "--format",
      "{{.Actor.Attributes.name}}",
    ]);
    // this run's builder would be triton-build-builder-<runId>; other runs may share the daemon
    expect(String(created.stdout).split("\n")).not.toContain(`triton-build-builder-${b.report.runId}`);
    expect(treeDifferences(await imageFiles(b.tag), imageA)).toEqual([]);
    const ls = await runCli(["cache", "ls", "--remote", remote, "--json"], { tempDir: temp, env: registry.env });
    expect((JSON.parse(ls.stdout) as Array<{ name: string }>).map((e) => e.name).sort()).toEqual(["checksum", "core", "onnxruntime", "python"]);
  });

  it("read mode never pushes", async () => {
    const before = await registry.tags("triton-cache");
    const c = await build("read-only", { cacheDir: path.join(temp, "cache-c"), remote, mode: "read", extra: ["--backend", "onnxruntime:r24.05-alt"] });
    expect(statuses(c.report).onnxruntime).toBe("built");
    expect(await registry.tags("triton-cache")).toEqual(before);
  });

  it("with signing on, an entry re-pushed with altered content is rejected and the component rebuilt", async () => {
    const signed = `${registry.address}/triton-cache-signed`;
    const fleetKey = { TRITON_BUILD_CACHE_KEY: "fleet-secret" };
    const a = await build("signed-a", { cacheDir: path.join(temp, "cache-sa"), remote: signed, mode: "readwrite", env: fleetKey });
    const pythonTag = (await registry.tags("triton-cache-signed")).find((t) => t.startsWith("python-"));
    expect(pythonTag).toBeDefined();

    // The attacker can push, but does not have the key: alter a file, fix up the manifest's hashes,
    // re-push in the current entry format (an OCI image of tar+gzip layers), made with tar and the
    // registry's HTTP API, not with triton-build's code.
    // The files from machine A's cache dir (the same as pushed), the signed manifest.json from the registry.
    const key = pythonTag!.slice("python-".length);
    const work = path.join(temp, "tamper");
    await cp(path.join(temp, "cache-sa", "components", "v1", "entries", key.slice(0, 2), key, "files"), path.join(work, "files"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const ref = `${signed}:${pythonTag}`;
    await execa("docker", ["pull", "-q", ref], { env: { ...process.env, ...registry.env } });
    await execa("docker", ["create", "--name", "tb-tamper", ref, "x"]);
    await execa("sh", ["-c", `docker cp tb-tamper:/manifest.json - | tar -x -C ${work}`]);
    await execa("docker", ["rm", "tb-tamper"]);
    await execa("docker", ["rmi", ref]);
    const libPath = "backends/python/libtriton_python.so";
    await writeFile(path.join(work, "files", libPath), "malicious replacement\n");
    const manifest = JSON.parse(await readFile(path.join(work, "manifest.json"), "utf8"));
    expect(manifest.signature, "machine A's entry is signed").toBeDefined();
    const entry = manifest.files.find((f: { path: string }) => f.path === libPath);
    entry.sha256 = createHash("sha256").update("malicious replacement\n").digest("hex");
    entry.size = "malicious replacement\n".length;
    await writeFile(path.join(work, "manifest.json"), JSON.stringify(manifest));
    await pushCraftedEntry(registry, "triton-cache-signed", pythonTag!, work);

    const b = await build("signed-b", { cacheDir: path.join(temp, "cache-sb"), remote: signed, mode: "read", env: fleetKey });
    expect(b.result.stdout).toMatch(/warning: remote cache entry .*python-[0-9a-f]{64} was not used: the entry's signature does not match/);
    expect(statuses(b.report)).toMatchObject({ core: "cached:remote", python: "built", onnxruntime: "cached:remote", checksum: "cached:remote" });
    const files = await imageFiles(b.tag);
    expect(files.get(libPath)).toBe((await imageFiles(a.tag)).get(libPath));
  });

  it("the registry stopped in the middle of a run: the build succeeds with one warning", async () => {
    const child = startCli(
      [
        "--preset",
        preset,
        ...world.args(),
        "--cache-dir",
        path.join(temp, "cache-d"),
        "--remote-cache",
        `${registry.address}/triton-cache-down`,
        "--remote-cache-mode",
        "readwrite",
        "--tag",
        world.tag("down"),
        "--json",
      ],
      { tempDir: temp, env: registry.env },
    );
    let buffered = "";
    let stopped: Promise<void> | undefined;
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!stopped && buffered.includes('"type":"component-start"')) stopped = registry.stop();
    });
    const result = await child;
    await stopped;
    await registry.start();
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const warnings = parseNdjson(String(result.stdout)).filter((e) => e.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.message)).toMatch(/^remote cache 127\.0\.0\.1:\d+\/triton-cache-down is unavailable \(.*\); continuing without it$/);
  });

  it("credentials the registry refuses: the build succeeds with one warning, and nothing is pushed", async () => {
    const badConfig = path.join(temp, "docker-config-bad");
    await mkdir(badConfig, { recursive: true });
    const auth = Buffer.from("ci:wrong-password").toString("base64");
    await writeFile(path.join(badConfig, "config.json"), JSON.stringify({ auths: { [registry.address]: { auth } } }));
    const before = await registry.tags("triton-cache");
    const result = await runCli(
      [
        "--preset",
        preset,
        ...world.args(),
        "--cache-dir",
        path.join(temp, "cache-e"),
        "--remote-cache",
        `${registry.address}/triton-cache`,
        "--remote-cache-mode",
        "readwrite",
        "--tag",
        world.tag("refused"),
        "--json",
        "--backend",
        "onnxruntime:r24.05-alt",
      ],
      { tempDir: temp, env: { DOCKER_CONFIG: badConfig } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const warnings = parseNdjson(result.stdout).filter((e) => e.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.message)).toMatch(/^remote cache 127\.0\.0\.1:\d+\/triton-cache (cannot be read|is unavailable) \(.*\); continuing without it$/);
    expect(await registry.tags("triton-cache")).toEqual(before);
  });
});
