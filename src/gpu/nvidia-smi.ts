import { execa } from "execa";
import { cancellation, EnvironmentError } from "../errors.js";

/** The nvidia-smi adapter: the compute capability of each GPU on this machine. */

const NO_GPU_HINT = "name the architectures instead, e.g. --cuda-arch 90-real (H100) or '80-real;86-real' (A100, A10)";

export interface NvidiaSmiOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export async function queryComputeCapabilities(options: NvidiaSmiOptions = {}): Promise<string[]> {
  const result = await execa("nvidia-smi", ["--query-gpu=compute_cap", "--format=csv,noheader"], {
    reject: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2_000,
    timeout: 30_000,
    stdin: "ignore",
    ...(options.env ? { env: options.env } : {}),
  });
  if ((result as { code?: string }).code === "ENOENT") {
    throw new EnvironmentError("--cuda-arch auto: nvidia-smi not found, so there is no NVIDIA GPU to read", NO_GPU_HINT);
  }
  if (result.isCanceled) throw cancellation(options.signal, "nvidia-smi");
  if (result.exitCode !== 0) {
    const output = `${String(result.stdout)}\n${String(result.stderr)}`.trim();
    const said = output.split("\n").pop() ?? `exit ${result.exitCode}`;
    if (/"?compute_cap"? is not a valid field/i.test(output)) {
      // Older drivers' nvidia-smi (the 470 series, for one) has no compute_cap field.
      throw new EnvironmentError(
        `--cuda-arch auto: this nvidia-smi cannot report compute capabilities (${said}): its NVIDIA driver is too old`,
        `update the NVIDIA driver, or ${NO_GPU_HINT}`,
      );
    }
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
