import { PresetError } from "../../errors.js";
import type { Preset } from "../../presets/model.js";
import { INSTALL_DIRS } from "../../buildpy/cmake-build.js";
import { backendEnvLines } from "./backend-env.js";

/**
 * The compose strategy, planned without any I/O: which published image is the base (the one
 * holding the preset's special backend) and where every other component is copied from.
 */

export type ComposeKind = "backend" | "repoagent" | "cache";

export interface ComposeCopy {
  name: string;
  kind: ComposeKind;
  /** Published image key (py3, trtllm, ...) and reference. */
  from: { key: string; image: string };
  /** Directory inside the images, e.g. /opt/tritonserver/backends/onnxruntime. */
  path: string;
}

export interface ComposePlan {
  base: { key: string; image: string; reason: string };
  /** Components already in the base image. */
  inBase: Array<{ name: string; kind: ComposeKind }>;
  copies: ComposeCopy[];
  /** Every image the result is made from, base first. */
  sources: Array<{ key: string; image: string }>;
  warnings: string[];
}

/** How messages name each kind. */
export const KIND_NAMES: Record<ComposeKind, string> = { backend: "backend", repoagent: "repository agent", cache: "response cache" };
const LISTS = { backend: "backends", repoagent: "repoAgents", cache: "responseCaches" } as const;

/** Published image references after `--image NAME=IMAGE` overrides (mirrors). */
export function publishedImageRefs(preset: Preset): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const [key, published] of Object.entries(preset.release.publishedImages)) {
    const override = preset.images[key];
    refs[key] = override?.kind === "ref" ? override.ref : published.image;
  }
  return refs;
}

/** Settings of a build that compose has no use for, each named in a warning when given. */
export interface ComposeIgnored {
  cudaArch?: string;
}

export function planCompose(preset: Preset, ignored: ComposeIgnored = {}): ComposePlan {
  const release = preset.release;
  const refs = publishedImageRefs(preset);
  const published = Object.entries(release.publishedImages).filter(([key]) => key !== "py3-min");
  const special = preset.backends.filter((b) => release.buildpy.backends[b.name]?.special).map((b) => b.name);
  const standard = published.find(([, image]) => !image.baseFor)?.[0] ?? "py3";

  const bases = special.map((name) => ({ name, key: published.find(([, image]) => image.baseFor === name)?.[0] }));
  const missingBase = bases.find((b) => !b.key);
  if (missingBase) {
    throw new PresetError(`no published ${release.release} image is a base for the ${missingBase.name} backend`, {
      hint: "compose can only start from published images; use --strategy build to compile it",
    });
  }
  const distinct = [...new Set(bases.map((b) => b.key))];
  if (distinct.length > 1) {
    throw new PresetError(
      `${special.join(" and ")} each need their own published base image (${distinct.map((k) => refs[k ?? ""]).join(", ")}), and no published ${release.release} image holds both`,
      { hint: "use --strategy build to compile them into one image, or drop one with --without" },
    );
  }
  const baseKey = distinct[0] ?? standard;
  const baseImage = release.publishedImages[baseKey];
  if (!baseImage) throw new PresetError(`release ${release.release} names no published image '${baseKey}'`);

  const plan: ComposePlan = {
    base: {
      key: baseKey,
      image: refs[baseKey] ?? baseImage.image,
      reason: special.length ? `holds ${special.join(", ")}, which is only published in this image` : "the standard image",
    },
    inBase: [],
    copies: [],
    sources: [],
    warnings: [],
  };
  const unavailable: string[] = [];
  for (const kind of ["backend", "repoagent", "cache"] as const) {
    for (const ref of preset[LISTS[kind]]) {
      if (kind === "backend" && release.buildpy.backends[ref.name]?.build === "core") continue; // ensemble is part of core
      warnAboutTag(plan, preset, ref.name, ref.tag);
      if (baseImage[LISTS[kind]].includes(ref.name)) {
        plan.inBase.push({ name: ref.name, kind });
        continue;
      }
      const holder = published.find(([key, image]) => key !== baseKey && image[LISTS[kind]].includes(ref.name));
      if (!holder) {
        unavailable.push(`${KIND_NAMES[kind]} ${ref.name}`);
        continue;
      }
      const [key] = holder;
      plan.copies.push({
        name: ref.name,
        kind,
        from: { key, image: refs[key] ?? holder[1].image },
        path: `/opt/tritonserver/${INSTALL_DIRS[kind]}/${ref.name}`,
      });
    }
  }
  if (unavailable.length) {
    throw new PresetError(
      `no published ${release.release} image holds ${unavailable.join(", ")}, so compose cannot copy ${unavailable.length === 1 ? "it" : "them"}`,
      { hint: "compose only copies components out of published images; use --strategy build to compile them" },
    );
  }
  const sourceKeys = [baseKey, ...new Set(plan.copies.map((c) => c.from.key))];
  plan.sources = sourceKeys.map((key) => ({ key, image: refs[key] ?? "" }));
  if (preset.features.length || preset.endpoints.length || preset.filesystems.length) {
    plan.warnings.push(`features, endpoints and filesystems come from the base image ${plan.base.image}, not from the preset`);
  }
  if (ignored.cudaArch)
    plan.warnings.push(`--cuda-arch ${ignored.cudaArch} is ignored: compose copies published binaries, built for the architectures NVIDIA chose`);
  return plan;
}

function warnAboutTag(plan: ComposePlan, preset: Preset, name: string, tag: string | undefined): void {
  if (!tag) return;
  const expected = name === "tensorrtllm" ? preset.release.versions.tensorrtllmBackendTag : preset.release.defaultComponentTag;
  if (tag !== expected)
    plan.warnings.push(`${name}:${tag} is ignored: compose copies the version published in ${preset.release.release} (${expected ?? "its default"})`);
}

/** The Dockerfile compose builds: the base, and one COPY per component from the image that holds it. */
export function composeDockerfile(plan: ComposePlan, preset: Preset): string {
  const stages = [...new Set(plan.copies.map((c) => c.from.key))];
  const alias = (key: string) => `src_${key.replace(/[^a-z0-9]/gi, "_")}`;
  const lines = [
    `# Generated by triton-build: preset ${preset.name}, release ${preset.release.release}, compose strategy.`,
    `# Base: ${plan.base.image} (${plan.base.reason}).`,
    ...stages.map((key) => `FROM ${plan.sources.find((s) => s.key === key)?.image} AS ${alias(key)}`),
    `FROM ${plan.base.image}`,
  ];
  for (const copy of plan.copies) {
    lines.push(`# ${copy.kind} ${copy.name} from ${copy.from.image}`);
    lines.push(`COPY --from=${alias(copy.from.key)} ${copy.path} ${copy.path}`);
  }
  lines.push(...backendEnvLines(plan.copies.filter((c) => c.kind === "backend").map((c) => c.name)));
  lines.push(`LABEL org.triton-build.preset="${preset.name}" org.triton-build.strategy="compose" org.triton-build.base="${plan.base.image}"`);
  return `${lines.join("\n")}\n`;
}
