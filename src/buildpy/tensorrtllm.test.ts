import { describe, expect, it } from "vitest";
import { SourceError, UsageError } from "../errors.js";
import { componentKeyInputs, type KeyContext } from "../cache/inputs.js";
import { cacheKey } from "../cache/key.js";
import { parseCmakeBuild } from "./cmake-build.js";
import { buildWheelLine, normalizeCudaArch, rewriteTensorrtllmSection } from "./tensorrtllm.js";

// A cmake_build in the r24.05 format (frames, clone, the tensorrtllm pre/post steps), toy content.
const SCRIPT = `#!/usr/bin/env bash
set -e
########
# Triton core library and tritonserver executable
# 
cmake "-DTRITON_REPO_ORGANIZATION:STRING=https://example.org/org" "-DTRITON_CORE_REPO_TAG:STRING=r24.05" /workspace
cmake --build . --config Release -j8  -t install
# 
# end Triton core library and tritonserver executable
########

########
# 'onnxruntime' backend
# Delete this section to remove backend from build
# 
if [[ ! -e onnxruntime ]]; then
  git clone --recursive --single-branch --depth=1 -b r24.05 https://example.org/org/onnxruntime_backend.git onnxruntime;
fi
cmake --build . --config Release -j8  -t install
# 
# end 'onnxruntime' backend
########

########
# 'tensorrtllm' backend
# Delete this section to remove backend from build
# 
mkdir -p /tmp/tritonbuild
cd /tmp/tritonbuild
rm -fr tensorrtllm
if [[ ! -e tensorrtllm ]]; then
  git clone --recursive --single-branch --depth=1 -b v0.9.0 https://example.org/org/tensorrtllm_backend.git tensorrtllm;
fi
export TRT_ROOT=/usr/local/tensorrt
mkdir -p /tmp/tritonbuild/tensorrtllm/build
cd /tmp/tritonbuild/tensorrtllm/build
apt-get update && apt-get install -y libcudnn8-dev && ldconfig
python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt
cmake "-DTRT_LIB_DIR=\${TRT_ROOT}/targets/\${ARCH}-linux-gnu/lib" -S ../inflight_batcher_llm -B .
cmake --build . --config Release -j8  -t install
# 
# end 'tensorrtllm' backend
########
`;

const sections = parseCmakeBuild(SCRIPT).sections;
const trtllm = sections.find((s) => s.name === "tensorrtllm")!;

describe("rewriteTensorrtllmSection", () => {
  it("passes the CUDA architectures and the job count to build_wheel.py", () => {
    const lines = rewriteTensorrtllmSection(trtllm.lines, { cudaArch: "80-real;90-real", jobs: 3 });
    expect(buildWheelLine(lines)).toBe(
      `python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt --cuda_architectures "80-real;90-real" --job_count 3`,
    );
  });

  it("sets up Git LFS before the clone and pulls the submodules' LFS files before the wheel", () => {
    const lines = rewriteTensorrtllmSection(trtllm.lines, { jobs: 2 });
    expect(lines[lines.indexOf("if [[ ! -e tensorrtllm ]]; then") - 1]).toBe("git lfs install --skip-repo");
    expect(lines[lines.findIndex((l) => l.includes("build_wheel.py")) - 1]).toBe("git -C .. submodule foreach --recursive git lfs pull");
  });

  it("changes nothing else in the section", () => {
    const lines = rewriteTensorrtllmSection(trtllm.lines, { cudaArch: "90-real", jobs: 4 });
    const untouched = lines.filter((l) => !l.includes("build_wheel.py") && !l.startsWith("git lfs install") && !l.startsWith("git -C .."));
    expect(untouched).toEqual(trtllm.lines.filter((l) => !l.includes("build_wheel.py")));
  });

  it("replaces values build.py may one day pass itself", () => {
    const lines = rewriteTensorrtllmSection(["python3 build_wheel.py --cuda_architectures 70-real --job_count 64 --trt_root /x"], {
      cudaArch: "90-real",
      jobs: 2,
    });
    expect(lines.at(-1)).toBe(`python3 build_wheel.py --cuda_architectures "90-real" --job_count 2 --trt_root /x`);
  });
});

describe("a tensorrtllm section without the build_wheel.py line", () => {
  const without = trtllm.lines.filter((l) => !l.includes("build_wheel.py"));

  it("is an error when --cuda-arch or --jobs was given: the setting would never reach the build", () => {
    expect(() => rewriteTensorrtllmSection(without, { cudaArch: "90-real", jobs: 4 })).toThrow(SourceError);
    expect(() => rewriteTensorrtllmSection(without, { cudaArch: "90-real", jobs: 4 })).toThrow(
      "the tensorrtllm section of cmake_build has no build_wheel.py line, so --cuda-arch 90-real cannot reach TensorRT-LLM's build",
    );
    expect(() => rewriteTensorrtllmSection(without, { jobs: 4, jobsGiven: true })).toThrow(/so --jobs 4 cannot reach/);
  });

  it("is no error for a default job count", () => {
    expect(buildWheelLine(rewriteTensorrtllmSection(without, { jobs: 4 }))).toBeUndefined();
  });
});

describe("normalizeCudaArch", () => {
  it("accepts lists in several spellings and refuses compute capabilities", () => {
    expect(normalizeCudaArch("90-real")).toBe("90-real");
    expect(normalizeCudaArch("80-real, 86-real;90-real")).toBe("80-real;86-real;90-real");
    expect(() => normalizeCudaArch("native")).toThrow(/--cuda-arch 'native': native needs a GPU to detect, and the build runs in a container without one/);
    expect(() => normalizeCudaArch("80-real;native")).toThrow(UsageError);
    expect(() => normalizeCudaArch("native")).toThrow(expect.objectContaining({ hint: expect.stringContaining("use --cuda-arch auto") }));
    expect(() => normalizeCudaArch("9.0")).toThrow(/'9.0' is not a CUDA architecture/);
    expect(() => normalizeCudaArch(" ; ")).toThrow(/expected a list/);
  });
});

describe("cache keys and --cuda-arch", () => {
  const context: KeyContext = {
    server: { url: "/srv/server", ref: "r24.05", commit: "c".repeat(40) },
    buildbaseDockerfile: "FROM base",
    baseImage: { ref: "base:1", id: "sha256:1" },
    platform: { os: "linux", arch: "x86_64" },
    resolveRef: async (url, ref) => ({ url, ref, commit: "d".repeat(40) }),
  };
  const keys = async (cudaArch: string) => {
    const result: Record<string, string> = {};
    for (const section of sections) {
      const isTrtllm = section.name === "tensorrtllm";
      const lines = isTrtllm ? rewriteTensorrtllmSection(section.lines, { cudaArch, jobs: 2 }) : section.lines;
      result[section.name] = cacheKey(await componentKeyInputs(section, context, lines, isTrtllm ? { cudaArch } : {}));
    }
    return result;
  };

  it("a different --cuda-arch gives a different key for tensorrtllm only", async () => {
    const a = await keys("90-real");
    const b = await keys("80-real;90-real");
    expect(a.core).toBe(b.core);
    expect(a.onnxruntime).toBe(b.onnxruntime);
    expect(a.tensorrtllm).not.toBe(b.tensorrtllm);
  });

  it("the job count does not change the key", async () => {
    const section = trtllm;
    const one = cacheKey(
      await componentKeyInputs(section, context, rewriteTensorrtllmSection(section.lines, { cudaArch: "90-real", jobs: 1 }), { cudaArch: "90-real" }),
    );
    const many = cacheKey(
      await componentKeyInputs(section, context, rewriteTensorrtllmSection(section.lines, { cudaArch: "90-real", jobs: 32 }), { cudaArch: "90-real" }),
    );
    expect(one).toBe(many);
  });
});
