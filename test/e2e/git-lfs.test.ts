// Issue 13.1: with git-lfs registered system-wide (Debian's git-lfs package) and per user (`git lfs
// install`), a mirror made by plain git has the server's LFS pointer files but no LFS objects.
// The server checkout never needs them: plan and build succeed and make no LFS request.
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createWorld, type World } from "../helpers/world.js";

let temp: string;
let world: World;
let preset: string;
let lfsServer: Server;
const lfsRequests: string[] = [];
let gitEnv: Record<string, string>;

/** What Debian's git-lfs package writes to /etc/gitconfig, and `git lfs install` to ~/.gitconfig. */
function lfsConfig(lfsUrl: string): string {
  return [
    '[filter "lfs"]',
    "\tclean = git-lfs clean -- %f",
    "\tsmudge = git-lfs smudge -- %f",
    "\tprocess = git-lfs filter-process",
    "\trequired = true",
    // Every LFS request of any repository goes to the recording server below.
    "[lfs]",
    `\turl = ${lfsUrl}`,
    "",
  ].join("\n");
}

beforeAll(async () => {
  // The test is only worth something where git-lfs would run: it must be installed (prepare.sh does it).
  expect(execFileSync("git", ["lfs", "version"], { encoding: "utf8" })).toMatch(/^git-lfs\//);
  temp = await makeTempDir("tb-lfs-");
  world = await createWorld(temp);
  preset = await world.preset("fixture-lfs", "features: [logging]\nendpoints: [http]\nbackends: [identity]\n");
  lfsServer = createServer((request, response) => {
    lfsRequests.push(`${request.method} ${request.url}`);
    response.writeHead(404, { "content-type": "application/vnd.git-lfs+json" });
    response.end(JSON.stringify({ message: "no LFS objects here" }));
  });
  await new Promise<void>((resolve) => lfsServer.listen(0, "127.0.0.1", resolve));
  const lfsUrl = `http://127.0.0.1:${(lfsServer.address() as AddressInfo).port}/lfs`;
  const system = path.join(temp, "gitconfig-system");
  const global = path.join(temp, "gitconfig-global");
  await writeFile(system, lfsConfig(lfsUrl));
  await writeFile(global, lfsConfig(lfsUrl));
  gitEnv = { GIT_CONFIG_SYSTEM: system, GIT_CONFIG_GLOBAL: global };
});
afterAll(async () => {
  await new Promise((resolve) => lfsServer?.close(resolve));
  await world?.cleanup();
  await removeTempDir(temp);
});

describe("a server mirror whose LFS objects are missing, with git-lfs configured system-wide and per user", () => {
  it("the fixture server repository has an LFS-tracked file with no object, as the real server does", async () => {
    const attributes = execFileSync("git", ["-C", world.server.path, "show", "HEAD:docs/_static/.gitattributes"], { encoding: "utf8" });
    expect(attributes).toMatch(/^nvidia-logo-fixture\.png filter=lfs /m);
    const pointer = execFileSync("git", ["-C", world.server.path, "show", "HEAD:docs/_static/nvidia-logo-fixture.png"], { encoding: "utf8" });
    expect(pointer).toMatch(/^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize \d+\n$/);
    // The same config makes plain git try the LFS server: the requests below would be recorded.
    const clone = path.join(temp, "plain-clone");
    // (Asynchronously: the recording server runs in this process.)
    const result = await execa("git", ["clone", "--quiet", world.server.path, clone], { env: gitEnv, reject: false, timeout: 60_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/smudge filter lfs failed/);
    expect(lfsRequests.length).toBeGreaterThan(0);
    lfsRequests.length = 0;
  });

  it("plan succeeds and makes no LFS request", async () => {
    const workDir = path.join(temp, "plan-work");
    const result = await runCli(["plan", "--preset", preset, ...world.args(), "--work-dir", workDir, "--json"], { tempDir: temp, env: gitEnv });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // The checkout has the pointer file, as committed.
    expect(await readFile(path.join(workDir, "server", "docs", "_static", "nvidia-logo-fixture.png"), "utf8")).toMatch(/^version https:\/\/git-lfs/);
    expect(lfsRequests).toEqual([]);
  });

  it("build succeeds and makes no LFS request", async () => {
    const tag = world.tag("lfs");
    const result = await runCli(["--preset", preset, ...world.args(), "--tag", tag], { tempDir: temp, env: gitEnv });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lfsRequests).toEqual([]);
  });
});
