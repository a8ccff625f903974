import { DockerCommandError, docker, dockerOk, dockerPiped, type DockerOptions } from "./cli.js";

export interface ContainerSpec {
  name: string;
  image: string;
  workdir?: string;
  /**
   * Allocate a TTY (`-t`), only when the user's stdin is a terminal: tools print their own
   * progress then. Not `-i`: the container is started with `docker start -a`, which does not
   * attach stdin, so a tool waiting for input would wait forever instead of failing.
   */
  tty: boolean;
  volumes?: string[];
  labels?: Record<string, string>;
  command: string[];
}

/** `docker create`; returns the container id. */
export async function createContainer(spec: ContainerSpec, options: DockerOptions = {}): Promise<string> {
  const args = ["create", "--name", spec.name];
  if (spec.workdir) args.push("-w", spec.workdir);
  if (spec.tty) args.push("-t");
  for (const volume of spec.volumes ?? []) args.push("-v", volume);
  for (const [name, value] of Object.entries(spec.labels ?? {})) args.push("--label", `${name}=${value}`);
  args.push(spec.image, ...spec.command);
  return (await dockerOk(args, options)).stdout.trim();
}

/** `docker cp HOST CONTAINER:PATH`. */
export async function copyIntoContainer(container: string, hostPath: string, containerPath: string, options: DockerOptions = {}): Promise<void> {
  await dockerOk(["cp", hostPath, `${container}:${containerPath}`], options);
}

/** `docker start -a`: runs to the end, handing over its output as it comes; returns the container's exit code. */
export async function startAttached(
  container: string,
  options: { signal?: AbortSignal; onChunk: (chunk: Buffer) => Promise<void> | undefined },
): Promise<number> {
  return dockerPiped(["start", "-a", container], options);
}

/** `docker rm -f`; a container that is already gone is fine. */
export async function removeContainer(container: string, options: DockerOptions = {}): Promise<void> {
  const args = ["rm", "-f", "-v", container];
  const result = await docker(args, options);
  if (result.exitCode !== 0 && !/No such container/i.test(result.tail.join("\n"))) throw new DockerCommandError(args, result);
}

/** Containers with a label, with that label's and other labels' values. */
export async function listLabelledContainers(label: string, options: DockerOptions = {}): Promise<Array<{ name: string; labels: Record<string, string> }>> {
  const result = await dockerOk(["ps", "-a", "--filter", `label=${label}`, "--format", "{{.Names}}\t{{json .Labels}}"], options);
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", labels = ""] = line.split("\t");
      return {
        name,
        labels: Object.fromEntries(
          labels
            .replace(/^"|"$/g, "")
            .split(",")
            .filter(Boolean)
            .map((kv) => kv.split("=") as [string, string]),
        ),
      };
    });
}

/** `docker run --rm`: a short command in a fresh container; returns exit code and output. */
export async function runOnce(
  image: string,
  command: string[],
  options: DockerOptions & { entrypoint?: string; name?: string } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const args = ["run", "--rm", "--network", "none"];
  if (options.name) args.push("--name", options.name);
  if (options.entrypoint !== undefined) args.push("--entrypoint", options.entrypoint);
  args.push(image, ...command);
  const result = await docker(args, options);
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
