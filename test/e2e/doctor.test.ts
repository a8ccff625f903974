import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";

let temp: string;
beforeAll(async () => {
  temp = await makeTempDir("tb-doctor-");
});
afterAll(() => removeTempDir(temp));

/** A PATH holding only the tools named, so a check can see one of them missing. */
async function pathWith(tools: string[]): Promise<string> {
  const bin = path.join(temp, `bin-${tools.join("-")}`);
  await mkdir(bin, { recursive: true });
  for (const tool of tools) {
    const real =
      tool === "python3" ? String((await execa("python3", ["-c", "import sys; print(sys.executable)"])).stdout) : String((await execa("which", [tool])).stdout);
    await symlink(real.trim(), path.join(bin, tool)).catch(() => undefined);
  }
  return bin;
}

describe("doctor", () => {
  it("reports each check with ok/warn/fail on a working machine", async () => {
    const result = await runCli(["doctor", "--json"], { tempDir: temp });
    const checks = JSON.parse(result.stdout) as Array<{ name: string; status: string; detail: string }>;
    expect(checks.map((c) => c.name)).toEqual(["docker", "disk (docker data root)", "disk (work dir)", "disk (cache dir)", "python", "git", "git-lfs"]);
    expect(checks.find((c) => c.name === "docker")?.status).toBe("ok");
    expect(checks.find((c) => c.name === "docker")?.detail).toMatch(/daemon \d+\./);
    expect(checks.find((c) => c.name === "python")?.detail).toMatch(/with requests/);
    expect(result.exitCode).toBe(checks.some((c) => c.status === "fail") ? 3 : 0);
  });

  it("a TensorRT-LLM preset fails without git-lfs, with the fix; other presets only warn", async () => {
    const bin = await pathWith(["node", "docker", "git", "python3"]);
    const env = { PATH: bin };
    const trt = await runCli(["doctor", "--preset", "trtllm-onnx"], { tempDir: temp, env });
    expect(trt.exitCode).toBe(3);
    expect(trt.stdout).toMatch(/FAIL\s+git-lfs\s+git-lfs not found/);
    expect(trt.stdout).toContain("fix: apt-get install git-lfs && git lfs install");
    expect(trt.stdout).toMatch(/OK\s+docker/);
    const other = await runCli(["doctor", "--preset", "llm-plus-vision"], { tempDir: temp, env });
    expect(other.stdout).toMatch(/WARN\s+git-lfs/);
    expect(other.exitCode).toBe(0);
  });

  it("the same columns with and without --preset; a disk warning has one threshold and one fix", async () => {
    const plain = await runCli(["doctor"], { tempDir: temp });
    const trt = await runCli(["doctor", "--preset", "trtllm-onnx"], { tempDir: temp });
    const detailColumn = (stdout: string) =>
      new Set(
        stdout
          .split("\n")
          .filter((l) => /^(OK|WARN|FAIL) /.test(l))
          .map((l) => /^(\S+\s+)(\S+( \([^)]*\))?\s+)/.exec(l)?.[0].length),
      );
    expect([...detailColumn(plain.stdout)]).toHaveLength(1);
    expect(detailColumn(trt.stdout)).toEqual(detailColumn(plain.stdout));
    for (const line of trt.stdout.split("\n").filter((l) => l.startsWith("WARN  disk"))) {
      expect(line).toMatch(/^WARN {2}disk \([^)]+\) +[\d.]+ GB free at \S+, under the \d+ GB [^\d]+ needs$/);
    }
  });

  it("an unreachable daemon and a missing python fail with their fixes", async () => {
    const result = await runCli(["doctor", "--python", "/nonexistent/python3"], {
      tempDir: temp,
      env: { DOCKER_HOST: `unix://${path.join(temp, "no-docker.sock")}` },
    });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/FAIL\s+docker\s+the Docker daemon is not reachable/);
    expect(result.stdout).toMatch(/FAIL\s+python\s+python interpreter '\/nonexistent\/python3' not found/);
    expect(result.stderr).toContain("error: 2 check(s) failed: docker, python");
  });
});
