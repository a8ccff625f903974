// A fixture "world" for end-to-end tests: a toy server repo, an organisation of component repos,
// preset files using the fixture base image, and helpers to inspect what a build left behind.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { createFixtureOrg, createFixtureServerRepo, FIXTURE_BASE_IMAGE } from "./fixture-repo.js";
import { expectValidEvents } from "./schema.js";

export interface World {
  dir: string;
  server: { path: string; commit: string };
  orgUrl: string;
  /** Writes a preset file using the fixture base image; returns its path. */
  preset(name: string, body: string): Promise<string>;
  /** Arguments every build in this world needs. */
  args(): string[];
  /** A unique image tag this world removes at the end. */
  tag(name: string): string;
  cleanup(): Promise<void>;
}

export async function createWorld(dir: string, options: { fixtureJson?: string; orgTags?: Record<string, string[]> } = {}): Promise<World> {
  const server = await createFixtureServerRepo(path.join(dir, "server"), options.fixtureJson ? { extraFiles: { "fixture.json": options.fixtureJson } } : {});
  const { url: orgUrl } = await createFixtureOrg(path.join(dir, "org"), undefined, options.orgTags ?? {});
  const suffix = randomBytes(3).toString("hex");
  const tags: string[] = [];
  return {
    dir,
    server,
    orgUrl,
    async preset(name, body) {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, `release: "24.05"\nimages:\n  base: ${FIXTURE_BASE_IMAGE}\n${body}`);
      return file;
    },
    args: () => ["--source", server.path, "--github-organization", orgUrl, "--no-pull"],
    tag(name) {
      const tag = `triton-build-test/${name}:${suffix}`;
      tags.push(tag);
      return tag;
    },
    async cleanup() {
      for (const tag of tags) await execa("docker", ["rmi", "--no-prune", tag], { reject: false });
    },
  };
}

/**
 * Every entry under /opt/tritonserver of an image, path -> what it is: "file MODE SHA256",
 * "dir MODE" or "symlink -> TARGET". Two images with equal maps hold the same tree, modes
 * included.
 */
export async function imageFiles(image: string): Promise<Map<string, string>> {
  const script = [
    "cd /opt/tritonserver && find . -mindepth 1 | sort | while IFS= read -r f; do",
    '  if [ -L "$f" ]; then printf \'%s\\tsymlink -> %s\\n\' "$f" "$(readlink "$f")";',
    '  elif [ -d "$f" ]; then printf \'%s\\tdir %s\\n\' "$f" "$(stat -c %a "$f")";',
    '  else printf \'%s\\tfile %s %s\\n\' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d" " -f1)"; fi',
    "done",
  ].join("\n");
  const { stdout } = await execa("docker", ["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", script]);
  const files = new Map<string, string>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const tab = line.indexOf("\t");
    if (tab > 0) files.set(line.slice(0, tab).replace(/^\.\//, ""), line.slice(tab + 1));
  }
  return files;
}

/** The entries two trees from imageFiles disagree on, as "path: left | right" lines ([] when equal). */
export function treeDifferences(left: Map<string, string>, right: Map<string, string>): string[] {
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  return paths.filter((p) => left.get(p) !== right.get(p)).map((p) => `${p}: ${left.get(p) ?? "(none)"} | ${right.get(p) ?? "(none)"}`);
}

/** Containers (any state) whose name contains the text. */
export async function containersNamed(text: string): Promise<string[]> {
  const { stdout } = await execa("docker", ["ps", "-a", "--filter", `name=${text}`, "--format", "{{.Names}}"]);
  return stdout.split("\n").filter(Boolean);
}

/** Processes whose command line contains the text (other than the pgrep itself). */
export async function processesMatching(text: string): Promise<string[]> {
  const { stdout } = await execa("pgrep", ["-af", text], { reject: false });
  return stdout.split("\n").filter((line) => line && !line.includes("pgrep"));
}

/** The events of `--json` output, each checked against the shipped schema/events.schema.json. */
export function parseNdjson(stdout: string): Array<Record<string, unknown> & { type: string }> {
  expectValidEvents(stdout);
  return stdout
    .split("\n")
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown> & { type: string };
      } catch {
        throw new Error(`line ${i + 1} of the --json output is not JSON: ${line}`);
      }
    });
}

export const ANSI_PATTERN = /\u001b\[|\u001b\]|\u009b/;
