import { createWriteStream } from "node:fs";
import { BuildError, DockerCommandError } from "../errors.js";
import { buildImage, type ImageBuildRequest } from "../docker/image-build.js";
import type { Emit, Phase } from "./events.js";
import { expectedFailure } from "./failure.js";

/** One `docker build` as a phase: step progress as events, full output in its log file. */
export async function buildImageWithLog(
  request: ImageBuildRequest,
  context: { phase: Phase; logPath: string; what: string; hint?: string; signal: AbortSignal; emit: Emit },
): Promise<string> {
  const log = createWriteStream(context.logPath);
  let logError: Error | undefined;
  log.on("error", (error) => (logError ??= error));
  try {
    return await buildImage(request, {
      signal: context.signal,
      onLine: (line) => void (logError ? undefined : log.write(`${line}\n`)),
      onProgress: (step, line) => context.emit({ type: "phase-output", phase: context.phase, line, step }),
    });
  } catch (error) {
    if (error instanceof DockerCommandError) {
      // An unreachable daemon or its full disk is this machine's problem, not the image's.
      const mapped = expectedFailure(error);
      if (!(mapped instanceof BuildError)) throw mapped;
      throw new BuildError(`${context.what} failed`, {
        component: context.phase,
        logPath: context.logPath,
        logTail: error.tail,
        hint: context.hint ?? (request.pull ? "if the base image exists only locally, pass --no-pull" : undefined),
      });
    }
    throw error;
  } finally {
    await new Promise((resolve) => (logError ? resolve(undefined) : log.end(resolve)));
    if (logError) context.emit({ type: "warning", message: `could not write ${context.logPath}: ${logError.message}` });
  }
}
