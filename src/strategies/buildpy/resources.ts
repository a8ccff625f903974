import os from "node:os";
import { normalizeCudaArch } from "../../buildpy/tensorrtllm.js";
import type { DockerEngine } from "../../docker/engine.js";
import { daemonInfo } from "../../docker/system.js";
import { architecturesFor, queryComputeCapabilities } from "../../gpu/nvidia-smi.js";
import { usesTensorrtllm, type Preset } from "../../presets/model.js";

/** Parallelism and CUDA architectures for a build, chosen once and then printed. */
export interface BuildResources {
  jobs: number;
  /** How jobs was chosen, for the user. */
  jobsReason: string;
  cudaArch?: string;
  cudaArchReason?: string;
}

const GB = 2 ** 30;
/** nvcc compiling TensorRT-LLM's kernels needs several GB per job; a C++ compile about 2. */
export const GB_PER_JOB_TENSORRTLLM = 4;
export const GB_PER_JOB = 2;

/** Jobs that fit both the cores and the memory of the machine that compiles. */
export function defaultJobs(cpus: number, memoryBytes: number, tensorrtllm: boolean): { jobs: number; reason: string } {
  const perJob = tensorrtllm ? GB_PER_JOB_TENSORRTLLM : GB_PER_JOB;
  const byMemory = Math.floor(memoryBytes / GB / perJob);
  const jobs = Math.max(1, Math.min(cpus, byMemory));
  const limit =
    byMemory < cpus ? `memory: ${Math.round(memoryBytes / GB)} GiB at about ${perJob} GB per job${tensorrtllm ? " for nvcc" : ""}` : `${cpus} cores`;
  return { jobs, reason: `${jobs} parallel job(s), limited by ${limit}; set --jobs to change` };
}

export async function resolveResources(input: {
  preset: Preset;
  jobs?: number;
  cudaArch?: string;
  signal?: AbortSignal;
  /** The engine that compiles (the first one): the default is sized for it. */
  engine?: Pick<DockerEngine, "info">;
}): Promise<BuildResources> {
  let jobs: number;
  let jobsReason: string;
  if (input.jobs !== undefined) {
    jobs = input.jobs;
    jobsReason = `${jobs} parallel job(s), from --jobs`;
  } else {
    // The builder container runs where the Docker daemon is: size the default for that machine.
    const options = input.signal ? { signal: input.signal } : {};
    const daemon = await (input.engine ? input.engine.info(options) : daemonInfo(options)).catch(() => undefined);
    const chosen = defaultJobs(daemon?.cpus ?? os.cpus().length, daemon?.memoryBytes ?? os.totalmem(), usesTensorrtllm(input.preset));
    jobs = chosen.jobs;
    jobsReason = chosen.reason;
  }
  if (!input.cudaArch) return { jobs, jobsReason };
  // Checked whatever the preset: a wrong value is an error even where it would go unused.
  const requested = input.cudaArch === "auto" ? "auto" : normalizeCudaArch(input.cudaArch);
  if (!usesTensorrtllm(input.preset)) return { jobs, jobsReason, cudaArchReason: "--cuda-arch is ignored: the preset builds no TensorRT-LLM" };
  if (requested === "auto") {
    const capabilities = await queryComputeCapabilities(input.signal ? { signal: input.signal } : {});
    const cudaArch = architecturesFor(capabilities);
    return {
      jobs,
      jobsReason,
      cudaArch,
      cudaArchReason: `CUDA architectures ${cudaArch}, from this machine's GPUs (compute capability ${capabilities.join(", ")})`,
    };
  }
  return { jobs, jobsReason, cudaArch: requested, cudaArchReason: `CUDA architectures ${requested}, from --cuda-arch` };
}
