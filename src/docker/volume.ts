import { docker, dockerOk, type DockerOptions } from "./cli.js";
import { type Labelled, parseLabelledList } from "./labels.js";

/** `docker volume create` with labels; returns the volume's name. */
export async function createVolume(name: string, labels: Record<string, string>, options: DockerOptions = {}): Promise<string> {
  const args = ["volume", "create"];
  for (const [label, value] of Object.entries(labels)) args.push("--label", `${label}=${value}`);
  args.push(name);
  return (await dockerOk(args, options)).stdout.trim();
}

/** `docker volume rm -f`; a volume that is already gone is fine. */
export async function removeVolume(name: string, options: DockerOptions = {}): Promise<void> {
  await docker(["volume", "rm", "-f", name], options);
}

/** Volumes with a label, with all their labels. */
export async function listLabelledVolumes(label: string, options: DockerOptions = {}): Promise<Labelled[]> {
  const result = await dockerOk(["volume", "ls", "--filter", `label=${label}`, "--format", "{{.Name}}\t{{json .Labels}}"], options);
  return parseLabelledList(result.stdout);
}
