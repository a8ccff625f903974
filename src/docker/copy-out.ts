import { mkdir } from "node:fs/promises";
import { execa } from "execa";
import { dockerBinary, engineArgs, type DockerOptions } from "./cli.js";

/**
 * `docker cp CONTAINER:PATH - | tar -x -C DEST`: streams a directory out of a container (running
 * or exited) without holding it in memory. Returns false when PATH does not exist in the container.
 */
export async function copyOutOfContainer(container: string, containerPath: string, destDir: string, options: DockerOptions = {}): Promise<boolean> {
  await mkdir(destDir, { recursive: true });
  // stdout is the tar stream: it must flow to tar, never be buffered here (it can be GBs).
  const copy = execa(dockerBinary(), [...engineArgs(options.engine), "cp", `${container}:${containerPath}`, "-"], {
    cancelSignal: options.signal,
    reject: false,
    stdin: "ignore",
    buffer: { stdout: false, stderr: true },
    ...(options.env ? { env: options.env } : {}),
  });
  const result = await copy.pipe("tar", ["-x", "--no-same-owner", "-C", destDir], { reject: false, cancelSignal: options.signal });
  const source = await copy;
  if (source.isCanceled || result.isCanceled) throw options.signal?.reason ?? new Error("copy cancelled");
  const copyError = String(source.stderr ?? "");
  if (source.exitCode !== 0) {
    if (/Could not find the file|No such container:path/i.test(copyError)) return false;
    throw new Error(`docker cp ${container}:${containerPath} failed: ${copyError.trim() || source.exitCode}`);
  }
  if (result.exitCode !== 0) throw new Error(`tar -x into ${destDir} failed: ${String(result.stderr).trim() || result.exitCode}`);
  return true;
}
