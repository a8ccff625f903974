import { SourceError, UsageError } from "../errors.js";
import { showValue } from "../presets/values.js";

/**
 * TensorRT-LLM's section of cmake_build. r24.05's build.py runs
 *   python3 ../tensorrt_llm/scripts/build_wheel.py --trt_root /usr/local/tensorrt
 * with no way to pass CUDA architectures (so every architecture is compiled, for hours) or a job
 * count (so nvcc runs one job per core and machines run out of memory), and clones the backend
 * without Git LFS set up (so its prebuilt libraries arrive as LFS pointer files). This rewrite
 * fixes the three on that section only.
 */

export interface TensorrtllmOptions {
  /** e.g. "90-real" or "80-real;90-real" (build_wheel.py --cuda_architectures). */
  cudaArch?: string;
  /** build_wheel.py --job_count. */
  jobs?: number;
  /** The job count was asked for (--jobs), not chosen by default. */
  jobsGiven?: boolean;
}

/**
 * Accepts `90-real`, `80-real;90-real`, `80,86`; returns the `;`-list build_wheel.py wants.
 * CMake's `native` is refused: the builder container has no GPU to detect, and the setting
 * would be one cache key for hosts with different GPUs; `auto` names this host's GPUs instead.
 * `from` names where the value came from in messages (the flag, or TRITON_BUILD_CUDA_ARCH).
 */
export function normalizeCudaArch(input: string, from = "--cuda-arch"): string {
  const entries = input
    .split(/[;,\s]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new UsageError(`${from} ${showValue(input)}: expected a list such as 90-real or '80-real;90-real', or auto`);
  for (const entry of entries) {
    if (entry === "native") {
      throw new UsageError(
        `${from} ${showValue(input)}: native needs a GPU to detect, and the build runs in a container without one; hosts with different GPUs would also share one cache key`,
        "use --cuda-arch auto, which reads this machine's GPUs with nvidia-smi and names their architectures, or name them, e.g. --cuda-arch 90-real",
      );
    }
    if (!/^\d{2,3}(-real|-virtual)?$/.test(entry)) {
      throw new UsageError(
        `${from} ${showValue(input)}: ${showValue(entry)} is not a CUDA architecture; expected e.g. 80-real, 86-real, 90-real (compute capability 9.0 -> 90-real), or auto`,
      );
    }
  }
  return [...new Set(entries)].join(";");
}

const BUILD_WHEEL = /\bbuild_wheel\.py\b/;

function setFlag(line: string, flag: string, value: string): string {
  const existing = new RegExp(`\\s${flag}(?:\\s+|=)("[^"]*"|'[^']*'|\\S+)`);
  const replacement = ` ${flag} ${value}`;
  return existing.test(line) ? line.replace(existing, replacement) : `${line.trimEnd()}${replacement}`;
}

/**
 * The section with the rewrite applied. When the section has no build_wheel.py line (r24.05's
 * always has one), an asked-for setting would enter the cache key and never reach the build: that
 * is an error.
 */
export function rewriteTensorrtllmSection(lines: readonly string[], options: TensorrtllmOptions): string[] {
  if (!buildWheelLine(lines)) {
    const asked = [
      options.cudaArch ? `--cuda-arch ${options.cudaArch}` : "",
      options.jobsGiven && options.jobs !== undefined ? `--jobs ${options.jobs}` : "",
    ].filter(Boolean);
    if (asked.length) {
      throw new SourceError(
        `the tensorrtllm section of cmake_build has no build_wheel.py line, so ${asked.join(" and ")} cannot reach TensorRT-LLM's build`,
        `r24.05's build.py runs \`python3 ../tensorrt_llm/scripts/build_wheel.py\` there: check --source and --ref, or leave out ${asked.map((a) => a.split(" ")[0]).join(" and ")}`,
      );
    }
  }
  const out: string[] = [];
  for (const line of lines) {
    if (/^\s*if \[\[ ! -e tensorrtllm \]\]; then\s*$/.test(line)) {
      // Register Git LFS before the clone, so the recursive clone's submodules get real files.
      out.push("git lfs install --skip-repo");
      out.push(line);
      continue;
    }
    if (BUILD_WHEEL.test(line) && /^\s*python3?\s/.test(line)) {
      let rewritten = line;
      if (options.cudaArch) rewritten = setFlag(rewritten, "--cuda_architectures", `"${options.cudaArch}"`);
      if (options.jobs !== undefined) rewritten = setFlag(rewritten, "--job_count", String(options.jobs));
      // The submodule's LFS objects (the batch manager libraries) must be real files before the wheel builds.
      out.push("git -C .. submodule foreach --recursive git lfs pull");
      out.push(rewritten);
      continue;
    }
    out.push(line);
  }
  return out;
}

/** The build_wheel.py line after the rewrite, for `plan`. */
export function buildWheelLine(lines: readonly string[]): string | undefined {
  return lines.find((line) => BUILD_WHEEL.test(line) && /^\s*python3?\s/.test(line))?.trim();
}
