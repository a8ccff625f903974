/**
 * build.py's `docker_build` script as a list of steps. triton-build runs these steps itself
 * (unique names, no `-it` without a TTY, per-component caching), so this is for `plan`, which
 * shows them.
 */

export type DockerStepKind = "buildbase" | "remove-builder" | "run-builder" | "copy-out" | "final-image" | "cibase-image" | "cd" | "other";

export interface DockerBuildStep {
  kind: DockerStepKind;
  command: string;
  /** For image builds: the `-f` Dockerfile and the `-t` tag. */
  dockerfile?: string;
  tag?: string;
}

export function parseDockerBuild(text: string): DockerBuildStep[] {
  const steps: DockerBuildStep[] = [];
  for (const raw of text.replace(/\r\n/g, "\n").split("\n")) {
    const command = raw.trim();
    if (!command || command.startsWith("#") || /^set\s+-[ex]+$/.test(command)) continue;
    steps.push(classify(command));
  }
  return steps;
}

function classify(command: string): DockerBuildStep {
  const words = command.split(/\s+/);
  if (words[0] === "cd") return { kind: "cd", command };
  if (words[0] === "if" && command.includes("docker rm")) return { kind: "remove-builder", command };
  if (words[0] !== "docker") return { kind: "other", command };
  const flag = (name: string) => {
    const at = words.indexOf(name);
    return at >= 0 ? words[at + 1] : undefined;
  };
  switch (words[1]) {
    case "build": {
      const dockerfile = flag("-f");
      const tag = flag("-t");
      const base = dockerfile?.split("/").pop();
      const kind: DockerStepKind = base === "Dockerfile.buildbase" ? "buildbase" : base === "Dockerfile.cibase" ? "cibase-image" : "final-image";
      return { kind, command, ...(dockerfile ? { dockerfile } : {}), ...(tag ? { tag } : {}) };
    }
    case "run":
      return { kind: "run-builder", command };
    case "cp":
      return { kind: "copy-out", command };
    default:
      return { kind: "other", command };
  }
}
