import { mkdir } from "node:fs/promises";
import { execa } from "execa";
import { cancellation, DockerCommandError, TarCommandError } from "../errors.js";
import { brokenPipe } from "../util/process.js";
import { dockerBinary, type DockerOptions } from "./cli.js";

/**
 * `docker cp CONTAINER:PATH - | tar -x -C DEST`: streams a directory out of a container (running
 * or exited) without holding it in memory. Returns false when PATH does not exist in the container.
 */
export async function copyOutOfContainer(container: string, containerPath: string, destDir: string, options: DockerOptions = {}): Promise<boolean> {
  await mkdir(destDir, { recursive: true });
  // stdout is the tar stream: it must flow to tar, never be buffered here (it can be GBs).
  const copyArgs = ["cp", `${container}:${containerPath}`, "-"];
  const tarArgs = ["-x", "--no-same-owner", "-C", destDir];
  const copy = execa(dockerBinary(), copyArgs, {
    cancelSignal: options.signal,
    reject: false,
    stdin: "ignore",
    buffer: { stdout: false, stderr: true },
    ...(options.env ? { env: options.env } : {}),
  });
  const result = await copy.pipe("tar", tarArgs, { reject: false, cancelSignal: options.signal });
  const source = await copy;
  if (source.isCanceled || result.isCanceled) throw cancellation(options.signal, "docker cp");
  const copyError = String(source.stderr ?? "");
  if (source.exitCode !== 0 && /Could not find the file|No such container:path/i.test(copyError)) return false;
  const copyFailed = () => new DockerCommandError(copyArgs, { exitCode: source.exitCode ?? -1, tail: copyError.split("\n") });
  // When tar cannot write (a full disk), docker cp fails only on the broken pipe: tar's is the error to report.
  if (source.exitCode !== 0 && !brokenPipe(copyError, source.signal)) throw copyFailed();
  if (result.exitCode !== 0) throw new TarCommandError(tarArgs, { status: result.exitCode, output: String(result.stderr ?? ""), directory: destDir });
  if (source.exitCode !== 0) throw copyFailed();
  return true;
}
