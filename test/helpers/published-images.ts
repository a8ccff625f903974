// Stand-ins for the published Triton images that compose copies from, built by the test:
// real ELF shared libraries compiled here with gcc, on the fixture base image (glibc + ldd).
//   trtllm: backends tensorrtllm and python; no TensorRT library
//   py3:    backends onnxruntime (with an optional TensorRT execution provider), tensorrt, python,
//           and libnvinfer.so.10 (TensorRT) on its library path
//   py3Old: py3 saying it is release 24.04
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { FIXTURE_BASE_IMAGE } from "./fixture-repo.js";

export interface PublishedStandIns {
  trtllm: string;
  py3: string;
  py3Old: string;
  remove(): Promise<void>;
}

async function compile(dir: string, name: string, source: string, extra: string[] = []): Promise<void> {
  const file = path.join(dir, `${name}.c`);
  await writeFile(file, source);
  await execa("gcc", ["-shared", "-fPIC", "-o", path.join(dir, name), file, ...extra], { cwd: dir });
}

export async function buildPublishedStandIns(dir: string, suffix: string): Promise<PublishedStandIns> {
  const libs = path.join(dir, "libs");
  await mkdir(libs, { recursive: true });
  // TensorRT, present only in the py3 stand-in
  await compile(libs, "libnvinfer.so.10", "int nvinfer_version(void) { return 10; }\n", ["-Wl,-soname,libnvinfer.so.10"]);
  await execa("ln", ["-sf", "libnvinfer.so.10", path.join(libs, "libnvinfer.so")]);
  const backend = (symbol: string, call = "") => `int ${symbol}(void) { ${call} return 0; }\n${call ? "extern int nvinfer_version(void);\n" : ""}`;
  await compile(libs, "libtriton_tensorrtllm.so", backend("TRITONBACKEND_Initialize"));
  await compile(libs, "libtriton_python.so", backend("TRITONBACKEND_Initialize"));
  await compile(libs, "libonnxruntime.so.1", "int OrtGetApiBase(void) { return 1; }\n", ["-Wl,-soname,libonnxruntime.so.1"]);
  await execa("ln", ["-sf", "libonnxruntime.so.1", path.join(libs, "libonnxruntime.so")]);
  await compile(libs, "libtriton_onnxruntime.so", "extern int OrtGetApiBase(void);\nint TRITONBACKEND_Initialize(void) { return OrtGetApiBase(); }\n", [
    `-L${libs}`,
    "-lonnxruntime",
    "-Wl,-rpath,$ORIGIN",
  ]);
  // optional execution provider: needs TensorRT
  await compile(libs, "libonnxruntime_providers_tensorrt.so", backend("GetProvider", "nvinfer_version();"), [`-L${libs}`, "-lnvinfer"]);
  await compile(libs, "libtriton_tensorrt.so", backend("TRITONBACKEND_Initialize", "nvinfer_version();"), [`-L${libs}`, "-lnvinfer"]);

  const context = async (name: string, files: Record<string, string>, dockerfile: string) => {
    const ctx = path.join(dir, name);
    for (const [target, source] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(ctx, target)), { recursive: true });
      await execa("cp", ["-P", path.join(libs, source), path.join(ctx, target)]);
    }
    await writeFile(path.join(ctx, "Dockerfile"), dockerfile);
    return ctx;
  };
  const env = (container: string, triton: string) => `ENV TRITON_SERVER_VERSION=${triton} NVIDIA_TRITON_SERVER_VERSION=${container}\n`;

  const trtllm = `triton-build-test/published-trtllm:${suffix}`;
  const py3 = `triton-build-test/published-py3:${suffix}`;
  const py3Old = `triton-build-test/published-py3-2404:${suffix}`;
  const trtllmCtx = await context(
    "trtllm",
    { "backends/tensorrtllm/libtriton_tensorrtllm.so": "libtriton_tensorrtllm.so", "backends/python/libtriton_python.so": "libtriton_python.so" },
    `FROM ${FIXTURE_BASE_IMAGE}\nCOPY backends /opt/tritonserver/backends\n${env("24.05", "2.46.0")}`,
  );
  const py3Ctx = await context(
    "py3",
    {
      "backends/onnxruntime/libtriton_onnxruntime.so": "libtriton_onnxruntime.so",
      "backends/onnxruntime/libonnxruntime.so.1": "libonnxruntime.so.1",
      "backends/onnxruntime/libonnxruntime_providers_tensorrt.so": "libonnxruntime_providers_tensorrt.so",
      "backends/tensorrt/libtriton_tensorrt.so": "libtriton_tensorrt.so",
      "backends/python/libtriton_python.so": "libtriton_python.so",
      "tensorrt/libnvinfer.so.10": "libnvinfer.so.10",
    },
    `FROM ${FIXTURE_BASE_IMAGE}\nCOPY backends /opt/tritonserver/backends\nCOPY tensorrt /usr/local/tensorrt/lib\nENV LD_LIBRARY_PATH=/usr/local/tensorrt/lib\n${env("24.05", "2.46.0")}`,
  );
  await execa("docker", ["build", "-q", "-t", trtllm, trtllmCtx]);
  await execa("docker", ["build", "-q", "-t", py3, py3Ctx]);
  const oldCtx = path.join(dir, "py3-old");
  await mkdir(oldCtx, { recursive: true });
  await writeFile(path.join(oldCtx, "Dockerfile"), `FROM ${py3}\n${env("24.04", "2.45.0")}`);
  await execa("docker", ["build", "-q", "-t", py3Old, oldCtx]);
  return {
    trtllm,
    py3,
    py3Old,
    async remove() {
      await execa("docker", ["rmi", py3Old, py3, trtllm], { reject: false });
    },
  };
}
