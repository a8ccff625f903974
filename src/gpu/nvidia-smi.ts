import { execa } from "execa";
import { EnvironmentError } from "../errors.js";

/** The nvidia-smi adapter: the compute capability of each GPU on this machine. */

const NO_GPU_HINT = "name the architectures instead, e.g. --cuda-arch 90-real (H100) or '80-real;86-real' (A100, A10)";

export async function queryComputeCapabilities(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const result = await execa("nvidia-smi", ["--query-gpu=compute_cap", "--format=csv,noheader"], { reject: false, env, timeout: 30_000 });
  if ((result as { code?: string }).code === "ENOENT") {
    throw new EnvironmentError("--cuda-arch auto: nvidia-smi not found, so there is no NVIDIA GPU to read", NO_GPU_HINT);
  }
  if (result.exitCode !== 0) {
    const said = `${String(result.stdout)}\n${String(result.stderr)}`.trim().split("\n").pop() ?? `exit ${result.exitCode}`;
    throw new EnvironmentError(`--cuda-arch auto: nvidia-smi found no usable GPU (${said})`, NO_GPU_HINT);
  }
  const capabilities = parseComputeCapabilities(String(result.stdout));
  if (capabilities.length === 0) throw new EnvironmentError("--cuda-arch auto: nvidia-smi lists no GPU", NO_GPU_HINT);
  return capabilities;
}

/** `9.0\n8.6\n` -> ["9.0", "8.6"]; other lines are ignored. */
export function parseComputeCapabilities(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+\.\d+$/.test(line));
}

/** ["9.0", "8.6", "9.0"] -> "86-real;90-real": each distinct architecture once, in order. */
export function architecturesFor(capabilities: readonly string[]): string {
  const numbers = [...new Set(capabilities.map((c) => Number(c.replace(".", ""))))].sort((a, b) => a - b);
  return numbers.map((n) => `${n}-real`).join(";");
}
