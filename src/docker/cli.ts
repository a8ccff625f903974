import { execa } from "execa";
import { COMMAND_TAIL_LINES, cancellation, DockerCommandError, EnvironmentError } from "../errors.js";

export { DockerCommandError };

/**
 * How every docker command is run: the docker CLI (so DOCKER_HOST, contexts and `docker login`
 * credentials work), an AbortSignal, and the environment passed in.
 */

export interface DockerOptions {
  signal?: AbortSignal;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called for each output line (stdout and stderr interleaved) while the command runs. */
  onLine?: (line: string) => void;
  /** Bytes for stdin. */
  input?: string | Buffer;
  timeoutMs?: number;
}

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The last output lines, for error messages. */
  tail: string[];
}

export function dockerBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRITON_BUILD_DOCKER || "docker";
}

/** Runs `docker ARGS`; never throws for a non-zero exit (callers decide), only for a missing CLI. */
export async function docker(args: readonly string[], options: DockerOptions = {}): Promise<DockerResult> {
  const streaming = Boolean(options.onLine);
  const subprocess = execa(dockerBinary(), args, {
    reject: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 5_000,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" as const }),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    all: streaming,
    buffer: !streaming,
    stripFinalNewline: true,
  });
  const tail: string[] = [];
  if (streaming) {
    for await (const line of subprocess.iterable({ from: "all" })) {
      const text = String(line).replace(/\r$/, "");
      tail.push(text);
      if (tail.length > COMMAND_TAIL_LINES) tail.shift();
      options.onLine?.(text);
    }
  }
  const result = await subprocess;
  if ((result as { code?: string }).code === "ENOENT") throw dockerMissing();
  if (result.isCanceled) throw cancellation(options.signal, `docker ${args[0] ?? ""}`);
  const stdout = streaming ? tail.join("\n") : String(result.stdout ?? "");
  const stderr = streaming ? "" : String(result.stderr ?? "");
  if (!streaming) tail.push(...`${stdout}\n${stderr}`.trim().split("\n").slice(-COMMAND_TAIL_LINES));
  // A command stopped by its timeout says nothing itself; this line is what callers report.
  if (result.timedOut) tail.push(`timed out after ${((options.timeoutMs ?? 0) / 1000).toFixed((options.timeoutMs ?? 0) < 10_000 ? 1 : 0)} s`);
  return { exitCode: result.exitCode ?? -1, stdout, stderr, tail };
}

/** Like `docker` but a non-zero exit throws with docker's own message. */
export async function dockerOk(args: readonly string[], options: DockerOptions = {}): Promise<DockerResult> {
  const result = await docker(args, options);
  if (result.exitCode !== 0) throw new DockerCommandError(args, result);
  return result;
}

/**
 * Runs `docker ARGS` handing its raw output (stdout and stderr) to `onChunk` as it arrives, with
 * backpressure: when `onChunk` returns a promise, reading pauses until it settles. For output of
 * any size (a multi-hour build log); returns the exit code.
 */
export async function dockerPiped(
  args: readonly string[],
  options: { signal?: AbortSignal; env?: Record<string, string | undefined>; onChunk: (chunk: Buffer) => Promise<void> | undefined },
): Promise<number> {
  const subprocess = execa(dockerBinary(), args, {
    reject: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 5_000,
    buffer: false,
    stdin: "ignore",
    ...(options.env ? { env: options.env } : {}),
  });
  for (const stream of [subprocess.stdout, subprocess.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      const wait = options.onChunk(chunk);
      if (!wait) return;
      stream.pause();
      void wait.finally(() => stream.resume());
    });
  }
  const result = await subprocess;
  if ((result as { code?: string }).code === "ENOENT") throw dockerMissing();
  if (result.isCanceled) throw cancellation(options.signal, `docker ${args[0] ?? ""}`);
  return result.exitCode ?? -1;
}

export function dockerMissing(): EnvironmentError {
  return new EnvironmentError(
    "the docker CLI was not found",
    "install Docker (e.g. `apt-get install docker.io`) and make sure `docker` is on PATH; `triton-build doctor` checks the set-up",
  );
}

export function isDaemonUnreachable(text: string): boolean {
  return /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|permission denied while trying to connect/i.test(text);
}
