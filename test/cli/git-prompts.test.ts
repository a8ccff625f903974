import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../helpers/cli.js";
import { createFixtureServerRepo } from "../helpers/fixture-repo.js";
import { runInTerminal } from "../helpers/tmux.js";

// A component organisation over https that wants credentials (GitHub answers 401 for a repository
// that does not exist or is private). On a terminal, git would ask for a user name and the run
// would wait for an answer that never comes; it must report the repositories unreadable instead.

let temp: string;
let server: { path: string };
let registry: Server;
let requests = 0;

beforeAll(async () => {
  temp = await makeTempDir("tb-git-prompts-");
  server = await createFixtureServerRepo(path.join(temp, "server"));
  registry = createServer((_request, response) => {
    requests += 1;
    response.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => registry.close(resolve));
  await removeTempDir(temp);
});

it("a repository that asks for credentials is reported unreadable on a terminal, never prompted for", async () => {
  const org = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/org`;
  const workDir = path.join(temp, "work");
  const terminal = await runInTerminal(["plan", "--preset", "trtllm-onnx", "--source", server.path, "--github-organization", org, "--work-dir", workDir], {
    tempDir: temp,
    columns: 200,
    rows: 50,
  });
  try {
    expect(await terminal.exitCode(45_000)).toBe(0);
    const screen = (await terminal.screen({ joined: true })).join("\n");
    // git's own reason may quote the prompt it could not show ("could not read Username for '…': terminal
    // prompts disabled"); a prompt it did show has no such words before it.
    const prompts = screen.match(/(Username|Password) for '/g) ?? [];
    const refused = screen.match(/could not read (Username|Password) for '/g) ?? [];
    expect(prompts.length).toBe(refused.length);
    expect(screen).toMatch(/warning: cache keys need the component repositories: pass --github-organization URL/);
    expect(requests).toBeGreaterThan(0);
    // trtllm-onnx's base image is a recipe from GitHub (unreachable here): its warning says what to do.
    expect(screen).toMatch(
      /warning: image recipe 'base': cannot resolve v0\.9\.0 in \S+: .*; pass --image base=IMAGE, or give images\.base in full \(its recipe's repo a mirror\)/,
    );
  } finally {
    await terminal.close();
  }
});
