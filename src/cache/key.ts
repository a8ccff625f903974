import { createHash } from "node:crypto";
import type { CmakeSection } from "../buildpy/cmake-build.js";
import { parseCmakeDefines } from "../buildpy/cmake-build.js";

/**
 * A component's cache key: sha256 over a canonical JSON of everything that can change its
 * outputs. Pure; the I/O that resolves refs to commits and images to ids is in inputs.ts.
 */

export const CACHE_FORMAT = 1;

/** A source a component is built from: a repo at a ref, resolved to a commit (or not). */
export interface SourceInput {
  url: string;
  ref: string;
  /** null: could not be resolved (offline, unknown ref): the component is a miss, never a hit. */
  commit: string | null;
  error?: string;
}

export interface KeyInputs {
  format: number;
  component: { kind: string; name: string };
  /** sha256 of the section's text with parallelism, verbosity and the clone organisation removed. */
  section: string;
  /** Keyed by role: repo (the component's own), server, common, core, backend, thirdparty. */
  sources: Record<string, SourceInput>;
  buildbase: { dockerfile: string; baseImage: string; baseImageId: string | null; error?: string };
  platform: { os: string; arch: string };
  /** Extra settings that reach the section (e.g. CUDA architectures), already in its text, named for `explain`. */
  settings: Record<string, string>;
}

/**
 * The section text as it matters for the outputs: `-jN`, `--parallel N`, `--job_count N` and
 * `-v` do not change what is built; neither does which mirror the sources are cloned from (their
 * commits are inputs of their own); `set -x` only changes logging.
 */
export function normalizeSection(lines: readonly string[], organization?: string): string {
  return lines
    .filter((line) => !/^\s*set [-+]x\s*$/.test(line))
    .map((line) => {
      let out = line.replace(/\s+$/, "");
      if (organization) out = out.split(organization).join("<org>");
      if (/^\s*cmake\s+--build\b/.test(out))
        out = out
          .replace(/\s-j\s?\d+\b/g, " -j")
          .replace(/\s--parallel(\s|=)\d+\b/g, " --parallel")
          .replace(/\s-v\b/g, "");
      return out.replace(/\s--job_count(\s|=)\d+\b/g, " --job_count").replace(/\s+/g, " ");
    })
    .join("\n");
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted at every level, so equal inputs always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The key. Source URLs and `error` fields are explanations, not inputs: a commit names the same
 * content whichever mirror it came from, so machines using different mirrors share entries.
 */
export function cacheKey(inputs: KeyInputs): string {
  const withoutErrors = {
    ...inputs,
    sources: Object.fromEntries(Object.entries(inputs.sources).map(([role, s]) => [role, { ref: s.ref, commit: s.commit }])),
    buildbase: { dockerfile: inputs.buildbase.dockerfile, baseImage: inputs.buildbase.baseImage, baseImageId: inputs.buildbase.baseImageId },
  };
  return sha256(canonicalJson(withoutErrors));
}

/** Why these inputs cannot give a trustworthy key; undefined when they can. */
export function unresolvedReason(inputs: KeyInputs): string | undefined {
  for (const [role, source] of Object.entries(inputs.sources)) {
    if (source.commit === null) return `cannot resolve ${role} ${source.url} ${source.ref}${source.error ? ` (${source.error})` : ""}`;
  }
  if (inputs.platform.os === "unknown" || inputs.platform.arch === "unknown") {
    return "the Docker daemon's platform is unknown (is the daemon reachable?)";
  }
  if (inputs.buildbase.baseImageId === null) {
    return `base image ${inputs.buildbase.baseImage} has no known id${inputs.buildbase.error ? ` (${inputs.buildbase.error})` : ""}`;
  }
  return undefined;
}

/**
 * What a section builds from, besides its own text: the repos and refs that need commits. A
 * clone or a repo tag this cannot read is returned with a `problem`: that source has no commit,
 * so the component is a miss (a key without it could hit after the branch moved).
 */
export function sectionSources(section: CmakeSection, serverUrl: string, serverRef: string): Record<string, { url: string; ref: string; problem?: string }> {
  const defines = parseCmakeDefines(section.lines);
  const organization = defines.TRITON_REPO_ORGANIZATION;
  const sources: Record<string, { url: string; ref: string; problem?: string }> = {};
  if (section.kind === "core") sources.server = { url: serverUrl, ref: serverRef };
  else if (section.repoUrl && section.tag && (section.repoUrl.startsWith("-") || section.tag.startsWith("-")))
    sources.repo = { url: section.repoUrl, ref: section.tag, problem: "its git clone names a repository or branch starting with '-'" };
  else if (section.repoUrl && section.tag) sources.repo = { url: section.repoUrl, ref: section.tag };
  else if (section.lines.some((line) => /\bgit\s+clone\b/.test(line))) {
    sources.repo = { url: section.repoUrl ?? "?", ref: section.tag ?? "?", problem: "its git clone line names no repository and branch this can read" };
  }
  const shared: Array<[string, string, string]> = [
    ["common", "TRITON_COMMON_REPO_TAG", "common"],
    ["core", "TRITON_CORE_REPO_TAG", "core"],
    ["backend", "TRITON_BACKEND_REPO_TAG", "backend"],
    ["thirdparty", "TRITON_THIRD_PARTY_REPO_TAG", "third_party"],
  ];
  for (const [role, define, repo] of shared) {
    const ref = defines[define];
    if (ref && organization && (organization.startsWith("-") || ref.startsWith("-")))
      sources[role] = {
        url: `${organization}/${repo}.git`,
        ref,
        problem: "TRITON_REPO_ORGANIZATION or its tag starts with '-', which git would read as an option",
      };
    else if (ref && organization) sources[role] = { url: `${organization}/${repo}.git`, ref };
    else if (ref) sources[role] = { url: `?/${repo}.git`, ref, problem: `${define} without TRITON_REPO_ORGANIZATION` };
  }
  return sources;
}

/** The organisation a section clones from, for normalising it out of the text. */
export function sectionOrganization(section: CmakeSection): string | undefined {
  const defined = parseCmakeDefines(section.lines).TRITON_REPO_ORGANIZATION;
  if (defined) return defined;
  const match = section.repoUrl ? /^(.*)\/[^/]+\.git$/.exec(section.repoUrl) : null;
  return match?.[1];
}

/** Names of the inputs that differ between two sets, for `plan` and `cache explain`. */
export function diffInputs(current: KeyInputs, previous: KeyInputs): string[] {
  const differences: string[] = [];
  if (current.format !== previous.format) differences.push(`cache format ${previous.format} -> ${current.format}`);
  if (current.section !== previous.section) differences.push("section text (build.py flags, cmake arguments or tags)");
  const roles = new Set([...Object.keys(current.sources), ...Object.keys(previous.sources)]);
  for (const role of roles) {
    const now = current.sources[role];
    const before = previous.sources[role];
    if (!now || !before) differences.push(`${role} source ${now ? "added" : "removed"}`);
    else if (now.ref !== before.ref) differences.push(`${role} ref ${before.ref} -> ${now.ref}`);
    else if (now.commit !== before.commit) differences.push(`${role} commit ${short(before.commit)} -> ${short(now.commit)} (${now.ref})`);
  }
  if (current.buildbase.dockerfile !== previous.buildbase.dockerfile) differences.push("Dockerfile.buildbase");
  if (current.buildbase.baseImage !== previous.buildbase.baseImage)
    differences.push(`base image ${previous.buildbase.baseImage} -> ${current.buildbase.baseImage}`);
  else if (current.buildbase.baseImageId !== previous.buildbase.baseImageId) {
    differences.push(`base image id ${short(previous.buildbase.baseImageId)} -> ${short(current.buildbase.baseImageId)}`);
  }
  if (canonicalJson(current.platform) !== canonicalJson(previous.platform))
    differences.push(`platform ${previous.platform.os}/${previous.platform.arch} -> ${current.platform.os}/${current.platform.arch}`);
  const settings = new Set([...Object.keys(current.settings), ...Object.keys(previous.settings)]);
  for (const name of settings) {
    if (current.settings[name] !== previous.settings[name])
      differences.push(`${name} ${previous.settings[name] ?? "(unset)"} -> ${current.settings[name] ?? "(unset)"}`);
  }
  return differences;
}

function short(value: string | null | undefined): string {
  if (!value) return "(unresolved)";
  return value.replace(/^sha256:/, "").slice(0, 12);
}
