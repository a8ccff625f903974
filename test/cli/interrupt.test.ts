// Ctrl-C twice quits at once, whether or not a config file exists. conf's atomic writer
// (atomically -> when-exit) installs SIGINT/SIGTERM/SIGHUP handlers when it is imported, which
// re-send the first signal to the process; a build must not load it, so a user's second Ctrl-C is
// never mistaken for that echo. The run waits in a docker command that ignores SIGTERM (as a
// stuck `docker info` would): stopping it takes execa's 5 s SIGKILL delay, so "at once" is seen as
// the CLI exiting while that docker process is still alive, and the slow path as it being gone.
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli, startCli } from "../helpers/cli.js";

let temp: string;
let fakeDocker: string;
let pidFile: string;
const started: number[] = [];

beforeAll(async () => {
  temp = await makeTempDir("tb-interrupt-");
  fakeDocker = path.join(temp, "docker");
  pidFile = path.join(temp, "docker.pid");
  // Ignored signals stay ignored across exec: this sleep outlives SIGTERM, not SIGKILL.
  await writeFile(fakeDocker, `#!/bin/sh\ntrap '' TERM INT\necho $$ > '${pidFile}'\nexec sleep 60\n`);
  await chmod(fakeDocker, 0o755);
});
afterEach(() => {
  // Only the fake docker processes this file started, by their pid.
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
});
afterAll(() => removeTempDir(temp));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a build that hangs in `docker info`; resolves with the child and the fake docker's pid. */
async function buildStuckInDocker(configDir: string) {
  await writeFile(pidFile, "");
  const child = startCli(["--preset", "full", "--work-dir", path.join(temp, "work"), "--json"], {
    tempDir: temp,
    env: { TRITON_BUILD_DOCKER: fakeDocker, TRITON_BUILD_CONFIG_DIR: configDir },
  });
  let pid = 0;
  while (!pid) {
    if (child.exitCode !== null) throw new Error(`the CLI ended before docker ran: ${String((await child).stderr)}`);
    pid = Number((await readFile(pidFile, "utf8")).trim()) || 0;
    await sleep(50);
  }
  started.push(pid);
  return { child, dockerPid: pid };
}

describe("Ctrl-C", () => {
  for (const withConfig of [false, true]) {
    const which = withConfig ? "with a config file" : "without a config file";
    it(`twice within a second quits at once, ${which}`, async () => {
      const configDir = path.join(temp, withConfig ? "config-set" : "config-none");
      if (withConfig) expect((await runCli(["config", "set", "jobs", "2"], { tempDir: temp, env: { TRITON_BUILD_CONFIG_DIR: configDir } })).exitCode).toBe(0);
      const { child, dockerPid } = await buildStuckInDocker(configDir);
      child.kill("SIGINT");
      await sleep(300);
      child.kill("SIGINT");
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(130);
      // Quit at once: the docker command it was waiting for has not even been killed yet.
      expect(alive(dockerPid)).toBe(true);
    });
  }

  it("once waits for the run to stop what it started (the control)", async () => {
    const configDir = path.join(temp, "config-set");
    const { child, dockerPid } = await buildStuckInDocker(configDir);
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).toContain("SIGINT: stopping");
    expect(alive(dockerPid)).toBe(false);
  });
});
