import { DockerCommandError } from "../docker/cli.js";
import { BuildError, InterruptedError, isTritonBuildError, SourceError } from "../errors.js";
import type { RunTally } from "./tally.js";

/**
 * How a run ends when it fails: the result event, and an error a user can act on. Failures of a
 * docker or git command are expected (a registry refuses, a clone fails) and are reported as
 * such, not as a bug in triton-build.
 */
export function failRun(error: unknown, context: { tally: RunTally; signal: AbortSignal }): Error {
  const interrupted = context.signal.aborted || error instanceof InterruptedError;
  const failure = interrupted ? (error instanceof InterruptedError ? error : new InterruptedError()) : expectedError(error);
  context.tally.finish({
    status: interrupted ? "interrupted" : "failed",
    error: failure.message,
    ...(failure instanceof BuildError && failure.component ? { failedComponent: failure.component } : {}),
  });
  return failure;
}

function expectedError(error: unknown): Error {
  if (isTritonBuildError(error)) return error;
  if (error instanceof DockerCommandError) {
    return new BuildError(error.message, {
      logTail: error.tail,
      hint: "the docker command's output is above; `triton-build doctor` checks the set-up",
      cause: error,
    });
  }
  if ((error as Error)?.name === "GitError") {
    return new SourceError(
      `git: ${
        String((error as Error).message)
          .trim()
          .split("\n")
          .pop() ?? "failed"
      }`,
      "check the repository URL and ref, and the network",
      error,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
