import type { DockerEngine } from "../../../docker/engine.js";
import { EnvironmentError } from "../../../errors.js";

/**
 * TensorRT-LLM keeps prebuilt libraries in Git LFS. Without git-lfs in the build image the clone
 * gets pointer files and the build fails hours later ("The batch manager library is truncated or
 * incomplete"). Checked right after the build image exists, before anything compiles.
 */
export async function requireGitLfsInImage(
  engine: DockerEngine,
  image: string,
  baseImage: string | undefined,
  options: { labels: Record<string, string>; signal?: AbortSignal },
): Promise<void> {
  const result = await engine.runOnce(image, ["-c", "git lfs version"], {
    entrypoint: "sh",
    labels: options.labels,
    signal: options.signal,
  });
  if (result.exitCode === 0) return;
  throw new EnvironmentError(
    `the build image${baseImage ? ` (from ${baseImage})` : ""} has no git-lfs, which TensorRT-LLM's sources need (${(result.stderr || result.stdout).trim().split("\n").pop() ?? "git lfs failed"})`,
    "use the preset's base image recipe (it installs git-lfs), or add `apt-get install -y git-lfs` to your base image",
  );
}
