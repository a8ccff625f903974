import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { PROJECT_ROOT } from "../helpers/fixture-repo.js";

let temp: string;
beforeAll(async () => {
  temp = await makeTempDir("tb-version-");
});
afterAll(() => removeTempDir(temp));

describe("triton-build --version", () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(await readFile(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
    const result = await runCli(["--version"], { tempDir: temp });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });
});
