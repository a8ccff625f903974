import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { docker, DockerCommandError, type DockerOptions } from "./cli.js";

export interface ImageBuildRequest {
  contextDir: string;
  dockerfile: string;
  tag: string;
  pull: boolean;
  buildArgs?: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
}

export interface BuildProgress {
  current: number;
  total: number;
}

/** `docker build`; returns the image id. Progress lines of both builders are reported. */
export async function buildImage(
  request: ImageBuildRequest,
  options: DockerOptions & { onProgress?: (progress: BuildProgress, line: string) => void } = {},
): Promise<string> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "triton-build-iid-"));
  const iidFile = path.join(scratch, "iid");
  try {
    const args = buildImageArgs(request, iidFile);
    const result = await docker(args, {
      ...options,
      onLine: (line) => {
        options.onLine?.(line);
        const progress = parseBuildStep(line);
        if (progress) options.onProgress?.(progress, line);
      },
    });
    if (result.exitCode !== 0) throw new DockerCommandError(args, result);
    return (await readFile(iidFile, "utf8")).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function buildImageArgs(request: ImageBuildRequest, iidFile: string): string[] {
  const args = ["build", "-t", request.tag, "-f", request.dockerfile, "--iidfile", iidFile];
  if (request.pull) args.push("--pull");
  for (const [name, value] of Object.entries(request.buildArgs ?? {})) args.push("--build-arg", `${name}=${value}`);
  for (const [name, value] of Object.entries(request.labels ?? {})) args.push("--label", `${name}=${value}`);
  if (request.target) args.push("--target", request.target);
  args.push(request.contextDir);
  return args;
}

/**
 * A build step line: the classic builder's `Step 3/7 : RUN ...` or BuildKit's `#7 [2/5] RUN ...`.
 * Other lines give undefined; nothing here throws on unknown output.
 */
export function parseBuildStep(line: string): BuildProgress | undefined {
  const classic = /^Step (\d+)\/(\d+) :/.exec(line);
  if (classic) return { current: Number(classic[1]), total: Number(classic[2]) };
  const buildkit = /^#\d+ \[(?:[\w.-]+ )?(\d+)\/(\d+)\]/.exec(line);
  if (buildkit) return { current: Number(buildkit[1]), total: Number(buildkit[2]) };
  return undefined;
}
