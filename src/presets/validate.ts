import { PresetError } from "../errors.js";
import { expectedOneOf } from "../util/suggest.js";
import type { ReleaseData } from "./release-schema.js";
import { COMPONENT_LIST_KEYS, isUsableImageReference, parseComponentRef, parseImageSpec } from "./model.js";
import type { PresetFile } from "./schema.js";
import { formatPath, type YamlFile, type YamlPath } from "./yaml-file.js";

/** Names a release knows, by the preset key that uses them. */
export function knownNames(release: ReleaseData) {
  const published = Object.keys(release.publishedImages);
  return {
    backends: Object.keys(release.buildpy.backends),
    repoAgents: release.buildpy.repoAgents,
    responseCaches: release.buildpy.responseCaches,
    features: release.buildpy.features,
    endpoints: release.buildpy.endpoints,
    filesystems: release.buildpy.filesystems,
    images: [...release.buildpy.images, ...published],
    repoTags: ["common", "core", "backend", "thirdparty"],
  };
}

interface Problem {
  path: YamlPath;
  message: string;
}

/** Checks every name in one preset file against the release, and its image references; all problems in one error. */
export function validatePresetNames(yamlFile: YamlFile, preset: PresetFile, release: ReleaseData): void {
  const known = knownNames(release);
  const problems: Problem[] = [];
  const check = (path: YamlPath, what: string, name: string, candidates: readonly string[]) => {
    if (!candidates.includes(name)) problems.push({ path, message: `unknown ${what} '${name}'; ${expectedOneOf(name, candidates)}` });
  };

  preset.backends?.forEach((ref, i) => {
    check(["backends", i], "backend", parseComponentRef(ref).name, known.backends);
  });
  preset.repoAgents?.forEach((ref, i) => {
    check(["repoAgents", i], "repository agent", parseComponentRef(ref).name, known.repoAgents);
  });
  preset.responseCaches?.forEach((ref, i) => {
    check(["responseCaches", i], "response cache", parseComponentRef(ref).name, known.responseCaches);
  });
  const what = { backends: "backend", repoAgents: "repository agent", responseCaches: "response cache" } as const;
  for (const key of COMPONENT_LIST_KEYS) {
    const first = new Map<string, number>();
    preset[key]?.forEach((ref, i) => {
      const { name } = parseComponentRef(ref);
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, i);
      else
        problems.push({ path: [key, i], message: `${what[key]} '${name}' is listed twice (also ${formatPath([key, earlier])}); list it once, with its tag` });
    });
  }
  preset.features?.forEach((name, i) => {
    check(["features", i], "feature", name, known.features);
  });
  preset.endpoints?.forEach((name, i) => {
    check(["endpoints", i], "endpoint", name, known.endpoints);
  });
  preset.filesystems?.forEach((name, i) => {
    check(["filesystems", i], "filesystem", name, known.filesystems);
  });
  for (const [name, spec] of Object.entries(preset.images ?? {})) {
    check(["images", name], "image name", name, known.images);
    const image = parseImageSpec(spec);
    if (image.kind === "ref" && !isUsableImageReference(image.ref)) {
      problems.push({
        path: ["images", name],
        message: `'${image.ref}' is not a valid image reference (lower-case repository, optional :tag or @sha256:digest)`,
      });
    }
  }
  for (const name of Object.keys(preset.repoTags ?? {})) check(["repoTags", name], "repo-tag component", name, known.repoTags);
  for (const name of Object.keys(preset.cmakeArgs?.backends ?? {})) {
    check(["cmakeArgs", "backends", name], "backend", name, known.backends);
  }
  const removable = [...known.backends, ...known.repoAgents, ...known.responseCaches, ...known.features, ...known.endpoints, ...known.filesystems];
  preset.without.forEach((name, i) => {
    check(["without", i], "component or feature", name, removable);
  });

  if (problems.length === 0) return;
  const lines = problems.map((p) => `${yamlFile.locate(p.path)}: ${formatPath(p.path)}: ${p.message}`);
  throw new PresetError(`invalid preset:\n  ${lines.join("\n  ")}`, {
    hint: `names are those build.py accepts for release ${release.release} (presets/releases/${release.release}.yaml)`,
  });
}
