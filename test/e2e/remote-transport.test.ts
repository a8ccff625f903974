import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";
import { type RegistryProxy, startRegistryProxy } from "../helpers/registry-proxy.js";
import { startTestRegistry, startTlsTestRegistry, type TestRegistry, writeDockerConfig } from "../helpers/registry.js";
import { containersNamed, createWorld, imageFiles, parseNdjson, treeDifferences, type World } from "../helpers/world.js";

// The remote cache over the distribution API, through the CLI: a registry served over TLS with a
// test CA in a certs directory (and Bearer tokens), a registry that stalls mid-blob, and kill -9
// during a fetch. Machines are cache dirs: A pushes, B starts empty.

interface Report {
  runId: string;
  components: Array<{ name: string; status: string; cacheSource?: string }>;
}

let temp: string;
let world: World;
let preset: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-remote-transport-");
  world = await createWorld(path.join(temp, "world"));
  preset = await world.preset("shared", "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n");
});
afterAll(async () => {
  await world?.cleanup();
  await removeTempDir(temp);
});

function buildArgs(name: string, cacheDir: string, remote: string, mode: "read" | "readwrite", extra: string[] = []): string[] {
  return [
    "--preset",
    preset,
    ...world.args(),
    "--cache-dir",
    cacheDir,
    "--remote-cache",
    remote,
    "--remote-cache-mode",
    mode,
    "--tag",
    world.tag(name),
    "--report",
    path.join(temp, `${name}.json`),
    "--json",
    ...extra,
  ];
}

const statuses = (report: Report) => Object.fromEntries(report.components.map((c) => [c.name, `${c.status}${c.cacheSource ? `:${c.cacheSource}` : ""}`]));
const readReport = async (name: string) => JSON.parse(await readFile(path.join(temp, `${name}.json`), "utf8")) as Report;
const warningsOf = (stdout: string) => parseNdjson(stdout).filter((e) => e.type === "warning");

describe("a registry over TLS with a test CA in a certs directory, and Bearer tokens", () => {
  let registry: TestRegistry;
  let certs: string;

  beforeAll(async () => {
    ({ registry, certs } = await startTlsTestRegistry(path.join(temp, "tls"), { auth: "token" }));
  });
  afterAll(() => registry?.close());

  it("machine A pushes; machine B (empty cache dir, read mode, pull-only token) restores identical files", async () => {
    const remote = `${registry.address}/triton-cache`;
    const env = { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: certs };
    const a = await runCli(buildArgs("tls-a", path.join(temp, "tls-cache-a"), remote, "readwrite"), { tempDir: temp, env });
    expect(a.exitCode, a.stderr).toBe(0);
    expect(warningsOf(a.stdout)).toEqual([]);
    expect((await registry.tags("triton-cache")).map((t) => t.replace(/-[0-9a-f]{64}$/, ""))).toEqual(["checksum", "core", "onnxruntime", "python"]);

    const readerEnv = { ...(await registry.dockerConfig(path.join(temp, "tls-reader"), "reader", "reader-secret")), TRITON_BUILD_REGISTRY_CERTS_DIR: certs };
    const b = await runCli(buildArgs("tls-b", path.join(temp, "tls-cache-b"), remote, "read"), { tempDir: temp, env: readerEnv });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(warningsOf(b.stdout)).toEqual([]);
    expect(statuses(await readReport("tls-b"))).toMatchObject({
      core: "cached:remote",
      python: "cached:remote",
      onnxruntime: "cached:remote",
      checksum: "cached:remote",
    });
    expect(treeDifferences(await imageFiles(world.tag("tls-b")), await imageFiles(world.tag("tls-a")))).toEqual([]);
    // B asked only for pull tokens
    expect(registry.tokens?.requests.filter((r) => r.user === "reader").every((r) => r.scope.every((s) => s.endsWith(":pull")))).toBe(true);
  });

  it("without the CA the registry is refused with one warning naming the certs directory, and the build goes on", async () => {
    const remote = `${registry.address}/triton-cache`;
    const env = { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: path.join(temp, "no-certs") };
    const c = await runCli(buildArgs("tls-c", path.join(temp, "tls-cache-c"), remote, "read"), { tempDir: temp, env });
    expect(c.exitCode, c.stderr).toBe(0);
    const warnings = warningsOf(c.stdout);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.message)).toContain(`remote cache ${remote} is unavailable (cannot reach ${registry.address}:`);
    expect(String(warnings[0]?.message)).toContain(`${path.join(temp, "no-certs")}/${registry.address}/ca.crt`);
    expect(Object.values(statuses(await readReport("tls-c"))).filter((s) => s === "built")).toHaveLength(4);
  });
});

describe("a registry behind a proxy that stalls or crawls", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let proxyEnv: Record<string, string>;
  const remoteVia = () => `${proxy.address}/triton-cache`;

  beforeAll(async () => {
    registry = await startTestRegistry(path.join(temp, "plain-registry"));
    proxy = await startRegistryProxy(registry.address, registry);
    proxyEnv = await writeDockerConfig(path.join(temp, "proxy-config"), proxy.address, registry.user, registry.password);
    const a = await runCli(buildArgs("seed", path.join(temp, "seed-cache"), remoteVia(), "readwrite"), { tempDir: temp, env: proxyEnv });
    expect(a.exitCode, a.stderr).toBe(0);
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.close();
  });

  it("a blob that stops mid-way: the build finishes with one warning, within the stall limit plus a margin", async () => {
    proxy.blobs = { mode: "stall", afterBytes: 64 };
    const stallSeconds = 3;
    const child = startCli(
      buildArgs("stalled", path.join(temp, "stalled-cache"), remoteVia(), "readwrite", ["--remote-cache-stall-timeout", String(stallSeconds)]),
      {
        tempDir: temp,
        env: proxyEnv,
      },
    );
    const stalledAt = proxy.blobStarted().then(() => performance.now());
    let warnedAt: number | undefined;
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (warnedAt === undefined && buffered.includes('"type":"warning"')) warnedAt = performance.now();
    });
    const result = await child;
    proxy.blobs = { mode: "pass" };
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const warnings = warningsOf(String(result.stdout));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.message)).toMatch(
      new RegExp(`^remote cache ${proxy.address}/triton-cache is unavailable \\(.*no progress for ${stallSeconds} s\\); continuing without it$`),
    );
    const waited = (warnedAt ?? Number.POSITIVE_INFINITY) - (await stalledAt);
    expect(waited).toBeGreaterThanOrEqual(stallSeconds * 1000 - 100);
    expect(waited).toBeLessThan(stallSeconds * 1000 + 5000);
    expect(Object.values(statuses(await readReport("stalled"))).filter((s) => s === "built")).toHaveLength(4);
  });

  it("kill -9 during a fetch leaves no container and no image; the next run removes the temporary entry", async () => {
    const cacheDir = path.join(temp, "killed-cache");
    const tmp = path.join(cacheDir, "components", "v1", "tmp");
    proxy.blobs = { mode: "slow", bytesPerSecond: 2048 };
    const child = startCli(buildArgs("killed", cacheDir, remoteVia(), "read"), { tempDir: temp, env: proxyEnv });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await proxy.blobStarted();
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill("SIGKILL");
    await child;
    proxy.blobs = { mode: "pass" };
    const runId = String(parseNdjson(output).find((e) => e.type === "run-start")?.runId);
    expect(runId).toMatch(/^\d{8}-\d{6}-/);
    // What the killed run was doing: a temporary entry half received, and nothing in Docker.
    expect((await readdir(tmp)).filter((name) => /^[0-9a-f]{64}\./.test(name)).length).toBeGreaterThan(0);
    expect(await containersNamed(runId)).toEqual([]);
    const images = await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(
      String(images.stdout)
        .split("\n")
        .filter((i) => i.includes(proxy.address) || i.includes(registry.address) || i.includes(runId)),
    ).toEqual([]);

    const again = await runCli(buildArgs("after-kill", cacheDir, remoteVia(), "read"), { tempDir: temp, env: proxyEnv });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(statuses(await readReport("after-kill"))).toMatchObject({
      core: "cached:remote",
      python: "cached:remote",
      onnxruntime: "cached:remote",
      checksum: "cached:remote",
    });
    expect(await readdir(tmp).catch(() => [])).toEqual([]);
    expect(await containersNamed(runId)).toEqual([]);
  });
});
