// The Docker engines of the multi-engine tests: the default one, and the second engine
// scripts/setup-docker.sh starts and names with a docker context.
import { execa } from "execa";

export const ENGINE2 = "triton-build-engine2";

/** Containers, image tags and volumes on an engine whose name holds the text (a run id). */
export async function leftOnEngine(engine: string, text: string): Promise<string[]> {
  const context = ["--context", engine];
  const lists = await Promise.all([
    execa("docker", [...context, "ps", "-a", "--format", "{{.Names}}"]),
    execa("docker", [...context, "images", "--format", "{{.Repository}}:{{.Tag}}"]),
    execa("docker", [...context, "volume", "ls", "--format", "{{.Name}}"]),
  ]);
  return lists.flatMap((list) => String(list.stdout).split("\n")).filter((name) => name.includes(text));
}
