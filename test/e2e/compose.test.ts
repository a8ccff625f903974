import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { buildPublishedStandIns, type PublishedStandIns } from "../helpers/published-images.js";
import { startTestRegistry } from "../helpers/registry.js";
import { imageFiles, parseNdjson } from "../helpers/world.js";

let temp: string;
let images: PublishedStandIns;
const tags: string[] = [];
let trtllmOnnx: string;
let withTensorrt: string;
let trtllmWithoutLdd: string;

const tag = (name: string) => {
  const t = `triton-build-test/compose-${name}:${randomBytes(3).toString("hex")}`;
  tags.push(t);
  return t;
};
const compose = (preset: string, extra: string[], images: string[]) =>
  runCli(["--preset", preset, "--strategy", "compose", "--no-pull", ...images.flatMap((i) => ["--image", i]), ...extra], { tempDir: temp });

beforeAll(async () => {
  temp = await makeTempDir("tb-compose-");
  images = await buildPublishedStandIns(path.join(temp, "images"), randomBytes(3).toString("hex"));
  trtllmOnnx = path.join(temp, "trtllm-onnx.yaml");
  await writeFile(trtllmOnnx, `extends: trtllm-onnx\n`);
  withTensorrt = path.join(temp, "trtllm-tensorrt.yaml");
  await writeFile(withTensorrt, `extends: trtllm-onnx\nbackends: [tensorrt]\nwithout: [onnxruntime]\n`);
  trtllmWithoutLdd = tag("published-trtllm-without-ldd");
  const noLdd = path.join(temp, "no-ldd");
  await mkdir(noLdd, { recursive: true });
  await writeFile(path.join(noLdd, "Dockerfile"), `FROM ${images.trtllm}\nRUN rm "$(command -v ldd)"\n`);
  await execa("docker", ["build", "-q", "-t", trtllmWithoutLdd, noLdd]);
});
afterAll(async () => {
  for (const t of tags) await execa("docker", ["rmi", t], { reject: false });
  await images?.remove();
  await removeTempDir(temp);
});

describe("compose strategy on the real engine", () => {
  it("plan --strategy compose prints where each component comes from and the Dockerfile", async () => {
    const result = await runCli(
      ["plan", "--preset", trtllmOnnx, "--strategy", "compose", "--image", `trtllm=${images.trtllm}`, "--image", `py3=${images.py3}`, "--json"],
      {
        tempDir: temp,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.base.image).toBe(images.trtllm);
    expect(plan.components).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "tensorrtllm", from: images.trtllm, action: "in-base" }),
        expect.objectContaining({ name: "onnxruntime", from: images.py3, action: "copy" }),
      ]),
    );
    expect(plan.dockerfile).toContain(`COPY --from=src_py3 /opt/tritonserver/backends/onnxruntime /opt/tritonserver/backends/onnxruntime`);
  });

  it("builds an image with all backends and reports the dependency a copied library misses, naming both libraries", async () => {
    const out = tag("ok");
    const report = path.join(temp, "compose-report.json");
    const result = await compose(trtllmOnnx, ["--tag", out, "--json", "--report", report], [`trtllm=${images.trtllm}`, `py3=${images.py3}`]);
    expect(result.exitCode, result.stderr).toBe(0);
    const files = [...(await imageFiles(out)).keys()];
    expect(files).toEqual(
      expect.arrayContaining([
        "backends/tensorrtllm/libtriton_tensorrtllm.so",
        "backends/python/libtriton_python.so",
        "backends/onnxruntime/libtriton_onnxruntime.so",
      ]),
    );
    const events = parseNdjson(result.stdout);
    const warnings = events.filter((e) => e.type === "warning").map((e) => String(e.message));
    expect(warnings).toContainEqual(
      expect.stringMatching(/^onnxruntime: \/opt\/tritonserver\/backends\/onnxruntime\/libonnxruntime_providers_tensorrt\.so needs libnvinfer\.so\.10/),
    );
    expect(warnings.join("\n")).not.toContain("libtriton_onnxruntime.so needs");
    expect(warnings.join("\n")).not.toContain("no libtriton_onnxruntime.so");
    expect(events.filter((e) => e.type === "component-start").map((e) => e.name)).toEqual(["onnxruntime"]);
    expect(events.at(-1)).toMatchObject({ type: "result", status: "ok", image: { tag: out } });
    const summary = JSON.parse(await readFile(report, "utf8"));
    expect(summary).toMatchObject({ strategy: "compose", status: "ok", image: { tag: out } });
    expect(summary.phases.map((p: { phase: string }) => p.phase)).toEqual(["plan", "final-image", "checks", "tag"]);
    const dockerfile = await readFile(path.join(summary.workDir, "compose", "Dockerfile"), "utf8");
    expect(dockerfile).toContain(`FROM ${images.trtllm}`);
    expect(summary.compose.dockerfile).toBe(path.join(summary.workDir, "compose", "Dockerfile"));
    expect(summary.compose.sources).toEqual([
      { key: "trtllm", image: images.trtllm, id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), container: "24.05", triton: "2.46.0" },
      { key: "py3", image: images.py3, id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), container: "24.05", triton: "2.46.0" },
    ]);
    expect(summary.compose.librariesChecked).toBe(3);
    expect(summary.compose.unresolved).toEqual([
      {
        component: "onnxruntime",
        kind: "backend",
        library: "/opt/tritonserver/backends/onnxruntime/libonnxruntime_providers_tensorrt.so",
        missing: ["libnvinfer.so.10"],
        main: false,
      },
    ]);
    expect(summary.source).toBeUndefined();
  });

  it("a backend whose main library cannot load fails the build, unless --allow-missing-libs", async () => {
    const report = path.join(temp, "compose-fail-report.json");
    const failed = await compose(withTensorrt, ["--tag", tag("fail"), "--report", report], [`trtllm=${images.trtllm}`, `py3=${images.py3}`]);
    expectCleanFailure(failed, 1, /tensorrt cannot load: \/opt\/tritonserver\/backends\/tensorrt\/libtriton_tensorrt\.so needs libnvinfer\.so\.10/);
    expect(JSON.parse(await readFile(report, "utf8")).compose.unresolved).toEqual([
      {
        component: "tensorrt",
        kind: "backend",
        library: "/opt/tritonserver/backends/tensorrt/libtriton_tensorrt.so",
        missing: ["libnvinfer.so.10"],
        main: true,
      },
    ]);
    const allowed = await compose(withTensorrt, ["--tag", tag("allowed"), "--allow-missing-libs"], [`trtllm=${images.trtllm}`, `py3=${images.py3}`]);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/warning: tensorrt: .*libtriton_tensorrt\.so needs libnvinfer\.so\.10.*main library/);
    expect(allowed.stdout).toContain("start  Plan and check the source images");
    expect(allowed.stdout).not.toContain("build.py");
    expect(allowed.stdout).toContain(`base   ${images.trtllm} (`);
    expect(allowed.stdout).not.toMatch(/ at $/m);
  });

  it("a result without ldd cannot be checked: exit 1 naming the missing tool, not a silent pass", async () => {
    const result = await compose(trtllmOnnx, ["--tag", tag("no-ldd")], [`trtllm=${trtllmWithoutLdd}`, `py3=${images.py3}`]);
    expectCleanFailure(result, 1, `cannot check the copied libraries: the composed image has no ldd (the base image ${trtllmWithoutLdd} lacks it)`);
  });

  it("sources of different releases: exit 1 with both versions named", async () => {
    const result = await compose(trtllmOnnx, ["--tag", tag("mixed")], [`trtllm=${images.trtllm}`, `py3=${images.py3Old}`]);
    expectCleanFailure(result, 1, "the source images are of different Triton releases");
    expect(result.stderr).toContain(`${images.trtllm} is 24.05 (Triton 2.46.0)`);
    expect(result.stderr).toContain(`${images.py3Old} is 24.04 (Triton 2.45.0)`);
  });

  it("sources of one release that is not the preset's: exit 1 with both releases named", async () => {
    const retagged = async (image: string, name: string) => {
      const t = tag(name);
      const dir = path.join(temp, name);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "Dockerfile"), `FROM ${image}\nENV TRITON_SERVER_VERSION=2.47.0 NVIDIA_TRITON_SERVER_VERSION=24.06\n`);
      await execa("docker", ["build", "-q", "-t", t, dir]);
      return t;
    };
    const trtllm2406 = await retagged(images.trtllm, "published-trtllm-2406");
    const py32406 = await retagged(images.py3, "published-py3-2406");
    const result = await compose(trtllmOnnx, ["--tag", tag("2406")], [`trtllm=${trtllm2406}`, `py3=${py32406}`]);
    expectCleanFailure(result, 1, "the source images are not of the preset's release 24.05 (Triton 2.46.0)");
    expect(result.stderr).toContain(`${py32406} is 24.06 (Triton 2.47.0)`);
  });

  it("with pulling on, the images checked are the images built: a stale local copy cannot pass the check", async () => {
    const registry = await startTestRegistry(path.join(temp, "registry"));
    try {
      const docker = (args: string[]) => execa("docker", args, { env: { ...process.env, ...registry.env } });
      const inRegistry = (name: string) => {
        const t = `${registry.address}/compose-${name}:${randomBytes(3).toString("hex")}`;
        tags.push(t);
        return t;
      };
      const trtllm = inRegistry("trtllm");
      const py3 = inRegistry("py3");
      // The registry's py3 is of release 24.04; the local copy under the same name says 24.05.
      for (const [local, remote] of [
        [images.trtllm, trtllm],
        [images.py3Old, py3],
      ] as const) {
        await docker(["tag", local, remote]);
        await docker(["push", "--quiet", remote]);
      }
      await docker(["tag", images.py3, py3]);
      const result = await runCli(
        ["--preset", trtllmOnnx, "--strategy", "compose", "--image", `trtllm=${trtllm}`, "--image", `py3=${py3}`, "--tag", tag("pulled")],
        {
          tempDir: temp,
          env: registry.env,
        },
      );
      expectCleanFailure(result, 1, "the source images are of different Triton releases");
      expect(result.stderr).toContain(`${py3} is 24.04 (Triton 2.45.0)`);
    } finally {
      await registry.stop();
    }
  });

  it("a preset needing a backend no published image holds: exit 2 with the explanation", async () => {
    const file = path.join(temp, "armnn.yaml");
    await writeFile(file, `extends: trtllm-onnx\nbackends: [armnn_tflite]\n`);
    const result = await compose(file, [], [`trtllm=${images.trtllm}`, `py3=${images.py3}`]);
    expectCleanFailure(result, 2, "no published 24.05 image holds backend armnn_tflite, so compose cannot copy it");
    expect(result.stderr).toContain("use --strategy build");
  });

  it("two special backends that need different bases: exit 2", async () => {
    const result = await compose(trtllmOnnx, ["--backend", "vllm"], [`trtllm=${images.trtllm}`, `py3=${images.py3}`]);
    expectCleanFailure(result, 2, /tensorrtllm and vllm each need their own published base image/);
  });
});
