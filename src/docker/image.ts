import { docker, dockerOk, type DockerOptions } from "./cli.js";

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

/**
 * `repository:tag` of every image (dangling ones, which have none, left out), or of those whose
 * reference matches a `docker image ls --filter reference=` pattern.
 */
export async function listImageTags(pattern?: string, options: DockerOptions = {}): Promise<string[]> {
  const filter = pattern === undefined ? [] : ["--filter", `reference=${pattern}`];
  const result = await dockerOk(["image", "ls", ...filter, "--format", "{{.Repository}}:{{.Tag}}"], options);
  return result.stdout.split("\n").filter((line) => line && !line.endsWith(":<none>"));
}

/** The tags of one repository on the engine, with when each one's image was made. */
export async function listRepositoryTags(repository: string, options: DockerOptions = {}): Promise<Array<{ tag: string; createdAt: Date }>> {
  const result = await dockerOk(["images", "--format", "{{.Tag}}\t{{.CreatedAt}}", repository], options);
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .flatMap((line) => {
      const [tag = "", created = ""] = line.split("\t");
      // "2026-12-03 12:09:19 +0000 UTC": the zone name after the offset is redundant
      const createdAt = new Date(
        created
          .replace(/ [A-Z]+$/, "")
          .replace(" ", "T")
          .replace(" ", ""),
      );
      return tag && tag !== "<none>" && !Number.isNaN(createdAt.getTime()) ? [{ tag, createdAt }] : [];
    });
}

export async function pullImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await dockerOk(["pull", "--quiet", ref], options);
}

export async function removeImage(ref: string, options: DockerOptions = {}): Promise<void> {
  await docker(["rmi", "-f", ref], options);
}
