import { BuildError, DockerCommandError, EnvironmentError, InterruptedError, isTritonBuildError } from "../errors.js";
import { isDaemonUnreachable } from "../docker/cli.js";
import { unmappedPathError } from "../util/fs-errors.js";
import type { RunTally } from "./tally.js";

/**
 * How a run ends when it fails: the result event, and an error a user can act on. Failures of a
 * docker or git command are expected (a registry refuses, a clone fails) and are reported as
 * such, not as a bug in triton-build.
 */
export function failRun(error: unknown, context: { tally: RunTally; signal: AbortSignal }): Error {
  const interrupted = context.signal.aborted || error instanceof InterruptedError;
  const failure = interrupted ? (error instanceof InterruptedError ? error : new InterruptedError()) : expectedFailure(error);
  context.tally.finish({
    status: interrupted ? "interrupted" : "failed",
    error: failure.message,
    ...(failure instanceof BuildError && failure.component ? { failedComponent: failure.component } : {}),
  });
  return failure;
}

/**
 * An error as the user should see it, mapped by type: a file-system failure names where it
 * happened (exit 3); a docker command that failed is the build's failure (exit 1) with docker's
 * last lines, unless the daemon is unreachable or its disk is full (exit 3). Typed errors pass
 * unchanged; anything else is left as it is: a real bug.
 */
export function expectedFailure(error: unknown): Error {
  const onDisk = unmappedPathError(error);
  if (onDisk) return onDisk;
  if (error instanceof DockerCommandError) {
    const said = error.tail.join("\n");
    if (isDaemonUnreachable(said)) {
      return new EnvironmentError(`the Docker daemon is not reachable: ${error.message}`, "start it, and check DOCKER_HOST / `docker context`", error);
    }
    if (/no space left on device/i.test(said)) {
      return new EnvironmentError(
        `the Docker daemon ran out of disk space: ${error.message}`,
        "free space in Docker's data root (`docker info` names it; `docker system df` shows what uses it)",
        error,
      );
    }
    return new BuildError(error.message, { logTail: error.tail, ...(error.hint ? { hint: error.hint } : {}), cause: error });
  }
  if (isTritonBuildError(error)) return error;
  return error instanceof Error ? error : new Error(String(error));
}
