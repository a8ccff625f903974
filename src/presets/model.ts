import type { CmakeArgs, ComponentRefInput, ImageRecipe, ImageSpecInput } from "./schema.js";
import type { ReleaseData } from "./release-schema.js";
import { isValidImageReference } from "../docker/reference.js";

/** A backend, repository agent or response cache, with the tag build.py should clone. */
export interface ComponentRef {
  name: string;
  /** Absent: build.py's default for the release (e.g. r24.05). */
  tag?: string;
}

/** `replacedRecipe`: the preset's recipe that `--image NAME=REF` replaced (said so in the run's output). */
export type ImageSpec = { kind: "ref"; ref: string; replacedRecipe?: ImageRecipe } | { kind: "recipe"; recipe: ImageRecipe };

export type ComponentListKey = "backends" | "repoAgents" | "responseCaches";
export const COMPONENT_LIST_KEYS: readonly ComponentListKey[] = ["backends", "repoAgents", "responseCaches"];
export type NameListKey = "features" | "endpoints" | "filesystems";
export const NAME_LIST_KEYS: readonly NameListKey[] = ["features", "endpoints", "filesystems"];

/** A preset after `extends` is merged, validated against its release data. */
export interface Preset {
  name: string;
  aliases: string[];
  description: string;
  /** The preset's file first, then each file it extends. */
  files: string[];
  release: ReleaseData;
  features: string[];
  endpoints: string[];
  filesystems: string[];
  backends: ComponentRef[];
  repoAgents: ComponentRef[];
  responseCaches: ComponentRef[];
  images: Record<string, ImageSpec>;
  repoTags: Record<string, string>;
  cmakeArgs: { core: CmakeArgs; backends: Record<string, CmakeArgs> };
  buildType?: string;
  minComputeCapability?: string;
  githubOrganization?: string;
  buildpyArgs: string[];
}

export function parseComponentRef(input: ComponentRefInput): ComponentRef {
  if (typeof input !== "string") return input.tag ? { name: input.name, tag: input.tag } : { name: input.name };
  const colon = input.indexOf(":");
  if (colon < 0) return { name: input };
  return { name: input.slice(0, colon), tag: input.slice(colon + 1) };
}

export function formatComponentRef(ref: ComponentRef): string {
  return ref.tag ? `${ref.name}:${ref.tag}` : ref.name;
}

export function parseImageSpec(input: ImageSpecInput): ImageSpec {
  if (typeof input === "string") return { kind: "ref", ref: input };
  if ("image" in input) return { kind: "ref", ref: input.image };
  return { kind: "recipe", recipe: input.recipe };
}

/** Adds or re-tags components by name, keeping the first position of each name. */
export function mergeComponentRefs(base: ComponentRef[], additions: ComponentRef[]): ComponentRef[] {
  const merged = base.map((ref) => ({ ...ref }));
  for (const addition of additions) {
    const existing = merged.find((ref) => ref.name === addition.name);
    if (!existing) merged.push({ ...addition });
    else if (addition.tag) existing.tag = addition.tag;
  }
  return merged;
}

export function unionNames(base: string[], additions: string[]): string[] {
  return [...new Set([...base, ...additions])];
}

/**
 * The preset's backends that need `name` (release data `requires`, e.g. vllm needs python):
 * build.py adds `name` back for them, so leaving it out cannot work.
 */
export function backendsRequiring(preset: Pick<Preset, "backends" | "release">, name: string): string[] {
  return preset.backends.filter((b) => preset.release.buildpy.backends[b.name]?.requires.includes(name)).map((b) => b.name);
}

/** TensorRT-LLM changes what a build needs: memory per job, disk, Git LFS, CUDA architectures. */
export function usesTensorrtllm(preset: Pick<Preset, "backends"> | undefined): boolean {
  return Boolean(preset?.backends.some((b) => b.name === "tensorrtllm"));
}

/** An image reference as docker accepts it, optionally pinned by digest (`name@sha256:...`). */
export function isUsableImageReference(reference: string): boolean {
  const match = /^(.+?)(@sha256:[0-9a-f]{64})?$/.exec(reference);
  return Boolean(match?.[1] && isValidImageReference(match[1]));
}
