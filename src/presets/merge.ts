import { PresetError } from "../errors.js";
import {
  backendsRequiring,
  COMPONENT_LIST_KEYS,
  mergeComponentRefs,
  NAME_LIST_KEYS,
  parseComponentRef,
  parseImageSpec,
  unionNames,
  type Preset,
} from "./model.js";
import type { PresetFile } from "./schema.js";
import { formatPath, type YamlFile } from "./yaml-file.js";

/** One preset file of an `extends` chain, read and validated against the schema. */
export interface LoadedFile {
  file: string;
  yaml: YamlFile;
  preset: PresetFile;
  name: string;
}

/** Parents first; later files override scalars, add to lists and remove what they list in `without`. */
export function mergeChain(chain: LoadedFile[], release: Preset["release"]): Preset {
  const [own] = chain;
  if (!own) throw new Error("empty preset chain");
  const merged: Preset = {
    name: own.name,
    aliases: own.preset.aliases,
    description: own.preset.description,
    files: chain.map((c) => c.file),
    release,
    features: [],
    endpoints: [],
    filesystems: [],
    backends: [],
    repoAgents: [],
    responseCaches: [],
    images: {},
    repoTags: {},
    cmakeArgs: { core: { extra: {}, override: {} }, backends: {} },
    buildpyArgs: [],
  };
  for (const link of [...chain].reverse()) {
    const { preset } = link;
    for (const key of NAME_LIST_KEYS) merged[key] = unionNames(merged[key], preset[key] ?? []);
    for (const key of COMPONENT_LIST_KEYS) merged[key] = mergeComponentRefs(merged[key], (preset[key] ?? []).map(parseComponentRef));
    const notFound = removeNames(merged, preset.without);
    if (notFound.length) throw withoutError(link, notFound, (name) => `'${name}' is not in the preset it extends or in this file: nothing to leave out`);
    for (const [name, spec] of Object.entries(preset.images ?? {})) merged.images[name] = parseImageSpec(spec);
    Object.assign(merged.repoTags, preset.repoTags ?? {});
    if (preset.cmakeArgs?.core) {
      Object.assign(merged.cmakeArgs.core.extra, preset.cmakeArgs.core.extra);
      Object.assign(merged.cmakeArgs.core.override, preset.cmakeArgs.core.override);
    }
    for (const [backend, args] of Object.entries(preset.cmakeArgs?.backends ?? {})) {
      merged.cmakeArgs.backends[backend] ??= { extra: {}, override: {} };
      const target = merged.cmakeArgs.backends[backend];
      Object.assign(target.extra, args.extra);
      Object.assign(target.override, args.override);
    }
    merged.buildType = preset.buildType ?? merged.buildType;
    merged.minComputeCapability = preset.minComputeCapability ?? merged.minComputeCapability;
    merged.githubOrganization = preset.githubOrganization ?? merged.githubOrganization;
    merged.buildpyArgs = [...merged.buildpyArgs, ...(preset.buildpyArgs ?? [])];
  }
  for (const link of chain) {
    const undone = link.preset.without.filter((name) => !hasComponent(merged, name) && backendsRequiring(merged, name).length);
    if (undone.length) {
      throw withoutError(
        link,
        undone,
        (name) => `cannot leave out '${name}': ${backendsRequiring(merged, name).join(", ")} needs it, and build.py adds it back`,
      );
    }
  }
  return merged;
}

function hasComponent(preset: Preset, name: string): boolean {
  return COMPONENT_LIST_KEYS.some((key) => preset[key].some((ref) => ref.name === name));
}

/** A `without:` entry of one file that cannot be honoured, at its line. */
function withoutError(link: LoadedFile, names: string[], describe: (name: string) => string): PresetError {
  const lines = names.map((name) => {
    const at = ["without", link.preset.without.indexOf(name)];
    return `${link.yaml.locate(at)}: ${formatPath(at)}: ${describe(name)}`;
  });
  return new PresetError(`invalid preset:\n  ${lines.join("\n  ")}`, {
    hint: `\`triton-build presets show ${link.file}\` shows what the preset has without it; remove the entry from \`without:\``,
  });
}

/** Removes components, features, endpoints or filesystems by name. Returns the names not found. */
export function removeNames(preset: Preset, names: readonly string[]): string[] {
  const notFound: string[] = [];
  for (const name of names) {
    let found = false;
    for (const key of COMPONENT_LIST_KEYS) {
      const before = preset[key].length;
      preset[key] = preset[key].filter((ref) => ref.name !== name);
      found ||= preset[key].length !== before;
    }
    for (const key of NAME_LIST_KEYS) {
      const before = preset[key].length;
      preset[key] = preset[key].filter((n) => n !== name);
      found ||= preset[key].length !== before;
    }
    if (!found) notFound.push(name);
  }
  return notFound;
}
