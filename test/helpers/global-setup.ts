// vitest globalSetup for the end-to-end tests: they need a real Docker engine and the fixture
// base image. Nothing is skipped: without them the run fails here, loudly. `npm test`
// (scripts/test.sh) installs and starts what is missing before it gets here.
import { execa } from "execa";
import buildDist from "./build-dist.js";
import { ensureFixtureBaseImage } from "./fixture-repo.js";

export default async function setup(): Promise<void> {
  const info = await execa("docker", ["info", "--format", "{{.ServerVersion}}"], { reject: false });
  if (info.exitCode !== 0 || !String(info.stdout).trim()) {
    throw new Error(
      `end-to-end tests need a running Docker engine and none is reachable (docker info: ${String(info.stderr).trim()}).\n` +
        "Run the tests with `npm test`, which installs and starts one (scripts/setup-docker.sh).",
    );
  }
  await ensureFixtureBaseImage();
  await buildDist();
}
