import { UsageError } from "../errors.js";
import { expectedOneOf } from "../util/suggest.js";
import { removeNames } from "./merge.js";
import { backendsRequiring, isUsableImageReference, mergeComponentRefs, parseComponentRef, type Preset } from "./model.js";
import { knownNames } from "./validate.js";
import { gitRefProblem, showValue } from "./values.js";

/** Command-line adjustments of a preset: `--backend`, `--without`, `--image`, `--buildpy-arg`. */
export interface PresetOverrides {
  backends?: string[];
  without?: string[];
  images?: string[];
  /** Passed to build.py unchanged: the command line's raw pass-through. */
  buildpyArgs?: string[];
  /** Where the backends came from, for messages: `--backend` (the default) or `TRITON_BUILD_BACKEND (environment)`. */
  backendsFrom?: string;
}

/** Returns a new preset with the overrides applied; the input is not changed. */
export function applyOverrides(preset: Preset, overrides: PresetOverrides): Preset {
  const result: Preset = structuredClone(preset);
  const known = knownNames(preset.release);
  for (const raw of overrides.backends ?? []) {
    const { name } = parseComponentRef(raw);
    if (overrides.without?.includes(name)) {
      throw new UsageError(`--backend ${raw} and --without ${name} conflict`, `keep one of them: --backend adds or re-tags ${name}, --without leaves it out`);
    }
  }

  const from = overrides.backendsFrom ?? "--backend";
  for (const raw of overrides.backends ?? []) {
    const ref = parseComponentRef(raw);
    if (!ref.name || raw.endsWith(":")) throw new UsageError(`${from} ${showValue(raw)}: expected NAME or NAME:TAG`);
    if (!known.backends.includes(ref.name)) {
      throw new UsageError(`${from} ${showValue(raw)}: unknown backend '${ref.name}'; ${expectedOneOf(ref.name, known.backends)}`);
    }
    const tagProblem = ref.tag === undefined ? undefined : gitRefProblem(ref.tag);
    if (ref.tag !== undefined && tagProblem) {
      throw new UsageError(`${from} ${showValue(raw)}: tag ${showValue(ref.tag)} ${tagProblem}`, "e.g. --backend tensorrtllm:v0.9.0");
    }
    result.backends = mergeComponentRefs(result.backends, [ref]);
  }

  const notFound = removeNames(result, overrides.without ?? []);
  if (notFound.length) {
    throw new UsageError(
      `--without ${notFound.join(", ")}: preset '${preset.name}' has no such component or feature`,
      `it has backends ${preset.backends.map((b) => b.name).join(", ") || "(none)"}; see \`triton-build presets show ${preset.name}\``,
    );
  }
  for (const name of overrides.without ?? []) {
    const needers = backendsRequiring(result, name);
    if (needers.length) {
      throw new UsageError(
        `--without ${name}: ${needers.join(", ")} needs it, and build.py adds it back`,
        `leave out ${needers.join(" and ")} too (${needers.map((n) => `--without ${n}`).join(" ")}), or keep ${name}`,
      );
    }
  }

  for (const raw of overrides.images ?? []) {
    const eq = raw.indexOf("=");
    const name = raw.slice(0, eq);
    const ref = raw.slice(eq + 1);
    if (eq <= 0 || !ref) throw new UsageError(`--image ${raw}: expected NAME=IMAGE, e.g. base=registry.local/tritonserver:24.05-py3-min`);
    if (!known.images.includes(name)) throw new UsageError(`--image ${raw}: unknown image name '${name}'; ${expectedOneOf(name, known.images)}`);
    if (!isUsableImageReference(ref)) {
      throw new UsageError(
        `--image ${raw}: '${ref}' is not a valid image reference`,
        "e.g. base=registry.local/tritonserver:24.05-py3-min (lower-case repository, optional :tag or @sha256:digest)",
      );
    }
    const replaced = result.images[name];
    result.images[name] = replaced?.kind === "recipe" ? { kind: "ref", ref, replacedRecipe: replaced.recipe } : { kind: "ref", ref };
  }

  result.buildpyArgs = [...result.buildpyArgs, ...(overrides.buildpyArgs ?? [])];
  return result;
}
