import { execa } from "execa";
import { DockerCommandError, TarCommandError } from "../errors.js";
import { docker, dockerBinary, dockerOk, type DockerOptions } from "./cli.js";

export interface ImageInfo {
  id: string;
  /** `repo@sha256:...` digests of the registries it was pulled from or pushed to. */
  repoDigests: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  size: number;
}

/** `docker image inspect`; undefined when the image is not here. */
export async function inspectImage(ref: string, options: DockerOptions = {}): Promise<ImageInfo | undefined> {
  const result = await docker(["image", "inspect", "--format", "{{json .}}", ref], options);
  if (result.exitCode !== 0) return undefined;
  const data = JSON.parse(result.stdout) as {
    Id: string;
    RepoDigests?: string[] | null;
    Size?: number;
    Config?: { Env?: string[] | null; Labels?: Record<string, string> | null };
  };
  const env: Record<string, string> = {};
  for (const entry of data.Config?.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { id: data.Id, repoDigests: data.RepoDigests ?? [], env, labels: data.Config?.Labels ?? {}, size: data.Size ?? 0 };
}

export async function tagImage(source: string, target: string, options: DockerOptions = {}): Promise<void> {
  await dockerOk(["tag", source, target], options);
}

/**
 * Removes a tag. `--no-prune` keeps untagged parent layers, which the classic builder uses as
 * its cache, so the next run's image build is quick.
 */
export async function untagImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await docker(["rmi", "--no-prune", ref], options);
}

/** `repository:tag` of every image whose reference matches a `docker image ls --filter reference=` pattern. */
export async function listImageTags(pattern: string, options: DockerOptions = {}): Promise<string[]> {
  const result = await dockerOk(["image", "ls", "--filter", `reference=${pattern}`, "--format", "{{.Repository}}:{{.Tag}}"], options);
  return result.stdout.split("\n").filter((line) => line && !line.endsWith(":<none>"));
}

export async function pullImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await dockerOk(["pull", "--quiet", ref], options);
}

export async function pushImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await dockerOk(["push", ref], options);
}

/**
 * `tar -c ... | docker import - REF`: a one-layer image of some files, e.g. a cache entry.
 * Each part is a directory and the paths inside it to put at the image's root.
 */
export async function importFiles(
  parts: Array<{ dir: string; paths: string[] }>,
  ref: string,
  options: DockerOptions & { labels?: Record<string, string> } = {},
): Promise<string> {
  const tarArgs = ["-c", "--owner=0", "--group=0", "--numeric-owner", ...parts.flatMap((p) => ["-C", p.dir, ...p.paths])];
  const changes = Object.entries(options.labels ?? {}).flatMap(([name, value]) => ["--change", `LABEL ${name}=${JSON.stringify(value)}`]);
  const tar = execa("tar", tarArgs, { cancelSignal: options.signal, reject: false, buffer: { stdout: false, stderr: true } });
  const importArgs = ["import", ...changes, "-", ref];
  const imported = await tar.pipe(dockerBinary(), importArgs, {
    cancelSignal: options.signal,
    reject: false,
    ...(options.env ? { env: options.env } : {}),
  });
  const archived = await tar;
  if (archived.exitCode !== 0) throw new TarCommandError(tarArgs, { status: archived.exitCode, output: String(archived.stderr ?? "") });
  if (imported.exitCode !== 0) throw new DockerCommandError(importArgs, { exitCode: imported.exitCode ?? -1, tail: String(imported.stderr ?? "").split("\n") });
  return String(imported.stdout).trim();
}

export async function removeImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await docker(["rmi", "-f", ref], options);
}
