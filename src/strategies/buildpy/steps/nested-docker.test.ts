import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nestedContainerName, nestedDockerWrapper, nestedImageTag } from "./nested-docker.js";

// The wrapper runs in front of a stand-in docker that records its arguments, as the backends'
// CMakeLists (r24.05) call it.
let dir: string;
let calls: string;
const runId = "20240501-000000-trtllm-onnx-abc123";

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-nested-"));
  calls = path.join(dir, "calls");
  await mkdir(path.join(dir, "bin"));
  await mkdir(path.join(dir, "real"));
  await writeFile(
    path.join(dir, "bin", "docker"),
    nestedDockerWrapper({ runId, labels: { "triton-build.run": runId, "triton-build.pid": "42", "triton-build.host": "host-1" } }),
  );
  await writeFile(path.join(dir, "real", "docker"), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
  await chmod(path.join(dir, "bin", "docker"), 0o755);
  await chmod(path.join(dir, "real", "docker"), 0o755);
  await writeFile(path.join(dir, "Dockerfile.ort"), "FROM base\nRUN compile onnxruntime 1.18.0\n");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function docker(command: string, component = "onnxruntime"): Promise<string[]> {
  await rm(calls, { force: true });
  const result = await execa("sh", ["-c", command], {
    cwd: dir,
    env: { PATH: `${path.join(dir, "bin")}:${path.join(dir, "real")}:/usr/bin:/bin`, TRITON_BUILD_COMPONENT: component },
    extendEnv: false,
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return (await readFile(calls, "utf8")).trim().split("\n");
}

describe("the docker wrapper in the builder", () => {
  const ortImage = nestedImageTag("tritonserver_onnxruntime", runId, "onnxruntime");
  const ortContainer = nestedContainerName("onnxruntime_backend_ort", runId, "onnxruntime");

  it("onnxruntime_backend's build: per-run image, one shared cache-from tag per Dockerfile, updated after the build", async () => {
    const [build, tag] = await docker(
      "docker build --cache-from=tritonserver_onnxruntime --cache-from=tritonserver_onnxruntime_cache0 --cache-from=tritonserver_onnxruntime_cache1 -t tritonserver_onnxruntime -f ./Dockerfile.ort /tmp/tritonbuild/onnxruntime",
    );
    const cacheTag = /--cache-from=(triton-build\/tritonserver_onnxruntime:cache-[0-9a-f]{16}) /.exec(build ?? "")?.[1];
    expect(cacheTag).toBeDefined();
    expect(build).toBe(
      `build --label triton-build.run=${runId} --cache-from=${cacheTag} --cache-from=${cacheTag} --cache-from=${cacheTag} -t ${ortImage} -f ./Dockerfile.ort /tmp/tritonbuild/onnxruntime`,
    );
    expect(tag).toBe(`tag ${ortImage} ${cacheTag}`);

    // Another Dockerfile (another ONNX Runtime version) has a cache tag of its own.
    await writeFile(path.join(dir, "Dockerfile.ort"), "FROM base\nRUN compile onnxruntime 1.18.1\n");
    const [other] = await docker("docker build --cache-from=tritonserver_onnxruntime -t tritonserver_onnxruntime -f ./Dockerfile.ort .");
    expect(other).toMatch(/--cache-from=triton-build\/tritonserver_onnxruntime:cache-[0-9a-f]{16} /);
    expect(other).not.toContain(cacheTag);
  });

  it("onnxruntime_backend's copy-out: rm, create, cp and rm of a container named for the run and component, labelled", async () => {
    const lines = await docker(
      [
        "docker rm onnxruntime_backend_ort || echo 'error ignored...' || true",
        "docker create --name onnxruntime_backend_ort tritonserver_onnxruntime",
        "docker cp onnxruntime_backend_ort:/opt/onnxruntime onnxruntime",
        "docker rm onnxruntime_backend_ort",
      ].join(" && "),
    );
    expect(lines).toEqual([
      `rm ${ortContainer}`,
      `create --label triton-build.run=${runId} --label triton-build.pid=42 --label triton-build.host=host-1 --name ${ortContainer} ${ortImage}`,
      `cp ${ortContainer}:/opt/onnxruntime onnxruntime`,
      `rm ${ortContainer}`,
    ]);
  });

  it("two builders of one run (two components) never share a name", async () => {
    const [a] = await docker("docker create --name onnxruntime_backend_ort tritonserver_onnxruntime", "onnxruntime");
    const [b] = await docker("docker create --name onnxruntime_backend_ort tritonserver_onnxruntime", "onnxruntime-second");
    expect(a).not.toBe(b);
  });

  it("pytorch, tensorflow and fil backends' fixed names are mapped; other names and images pass through", async () => {
    expect(
      await docker(
        [
          "docker pull nvcr.io/nvidia/pytorch:24.05-py3",
          "docker create --name pytorch_backend_ptlib nvcr.io/nvidia/pytorch:24.05-py3",
          "docker cp -L pytorch_backend_ptlib:/usr/local/lib/libmkl_core.so libmkl_core.so",
          "docker run -it -d --name tensorflow_backend_deps nvcr.io/nvidia/tensorflow:24.05-tf2-py3",
          "docker stop tensorflow_backend_deps",
          "docker create --name triton_fil_builder triton_fil_builder",
          "docker ps -a",
        ].join(" && "),
        "pytorch",
      ),
    ).toEqual([
      "pull nvcr.io/nvidia/pytorch:24.05-py3",
      `create --label triton-build.run=${runId} --label triton-build.pid=42 --label triton-build.host=host-1 --name ${nestedContainerName("pytorch_backend_ptlib", runId, "pytorch")} nvcr.io/nvidia/pytorch:24.05-py3`,
      `cp -L ${nestedContainerName("pytorch_backend_ptlib", runId, "pytorch")}:/usr/local/lib/libmkl_core.so libmkl_core.so`,
      `run --label triton-build.run=${runId} --label triton-build.pid=42 --label triton-build.host=host-1 -it -d --name ${nestedContainerName("tensorflow_backend_deps", runId, "pytorch")} nvcr.io/nvidia/tensorflow:24.05-tf2-py3`,
      `stop ${nestedContainerName("tensorflow_backend_deps", runId, "pytorch")}`,
      `create --label triton-build.run=${runId} --label triton-build.pid=42 --label triton-build.host=host-1 --name ${nestedContainerName("triton_fil_builder", runId, "pytorch")} ${nestedImageTag("triton_fil_builder", runId, "pytorch")}`,
      "ps -a",
    ]);
  });

  it("a failed build keeps its exit code and does not move the cache tag", async () => {
    await writeFile(path.join(dir, "real", "docker"), `#!/bin/sh\necho "$*" >> '${calls}'\nexit 3\n`);
    const result = await execa("sh", ["-c", "docker build --cache-from=tritonserver_onnxruntime -t tritonserver_onnxruntime ."], {
      cwd: dir,
      env: { PATH: `${path.join(dir, "bin")}:${path.join(dir, "real")}:/usr/bin:/bin`, TRITON_BUILD_COMPONENT: "onnxruntime" },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(3);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toHaveLength(1);
  });
});
