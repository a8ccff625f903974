import { buildpyArgv, shellQuote, type BuildpyArgvOptions } from "../../buildpy/argv.js";
import { parseCmakeBuild, type CmakeBuildScript, type ComponentKind, type CmakeSection } from "../../buildpy/cmake-build.js";
import { parseDockerBuild, type DockerBuildStep } from "../../buildpy/docker-build.js";
import { checkPython, runBuildpyDryrun } from "../../buildpy/run.js";
import { buildWheelLine, rewriteTensorrtllmSection, type TensorrtllmOptions } from "../../buildpy/tensorrtllm.js";
import type { Preset } from "../../presets/model.js";
import { checkoutSource, resolveSource, type ResolvedSource } from "../../source/mirror.js";
import type { Emit } from "../../run/events.js";
import { timedPhase } from "../../run/phase.js";
import { resolvePresetImages, type RecipeImage, type ResolvedImages } from "./images.js";

export interface PlanInput {
  preset: Preset;
  sourceUrl: string;
  ref: string;
  python: string;
  cacheDir: string;
  /** Where this run's server checkout goes. */
  checkoutDir: string;
  offline: boolean;
  argv: Omit<BuildpyArgvOptions, "imageRefs">;
  /** Keep the CI artifacts section (and build the cibase image). */
  ciImage: boolean;
  /** CUDA architectures and job count for TensorRT-LLM's build_wheel.py. */
  tensorrtllm?: TensorrtllmOptions;
  signal?: AbortSignal;
  emit: Emit;
}

export interface PlannedComponent {
  name: string;
  kind: ComponentKind;
  tag?: string;
  repoUrl?: string;
  section: CmakeSection;
  /** The section's lines as they will run (after any rewrite of their commands). */
  lines: string[];
  /** Settings that reached this section's text (e.g. cudaArch), named in its cache key inputs. */
  settings: Record<string, string>;
  /** build: compile it; skip: not part of this run (the CI section without --ci-image). */
  action: "build" | "skip";
  reason?: string;
}

export interface Plan {
  preset: Preset;
  source: ResolvedSource;
  checkoutDir: string;
  python: { executable: string; version: string };
  buildpy: { argv: string[]; command: string };
  images: { refs: Record<string, string>; recipes: RecipeImage[] };
  cmakeBuild: CmakeBuildScript;
  buildbaseDockerfile: string;
  dockerSteps: DockerBuildStep[];
  components: PlannedComponent[];
  warnings: string[];
}

/** Everything up to execution: checkout, build.py argv, --dryrun, components. Runs nothing in Docker. */
export async function createPlan(input: PlanInput): Promise<Plan> {
  const { emit, signal } = input;
  // Independent of the checkout: checked while the mirror is fetched (a Python start-up, ~0.15 s).
  const pythonCheck = checkPython(input.python, { signal });
  pythonCheck.catch(() => undefined); // awaited in the plan phase; not unhandled if the source fails first
  const source = await timedPhase(emit, "source", async () => {
    const resolved = await resolveSource(input.sourceUrl, input.ref, {
      cacheDir: input.cacheDir,
      offline: input.offline,
      signal,
      onRetry: (message) => emit({ type: "warning", message }),
    });
    await checkoutSource(resolved, input.checkoutDir, signal ? { signal } : {});
    emit({ type: "phase-output", phase: "source", line: `${resolved.url} ${resolved.ref} at ${resolved.commit}` });
    return resolved;
  });

  return timedPhase(emit, "plan", async () => {
    const python = await pythonCheck;
    const images = await resolvePresetImages(input.preset, { offline: input.offline, cacheDir: input.cacheDir, ...(signal ? { signal } : {}) });
    for (const message of images.warnings) emit({ type: "warning", message });
    const argv = planBuildpyArgv(input.preset, input.argv, images);
    const scripts = await runBuildpyDryrun(python.executable, input.checkoutDir, argv, { signal });
    const cmakeBuild = parseCmakeBuild(scripts.cmakeBuild);
    const warnings = [...images.warnings];
    const components = cmakeBuild.sections.map((section): PlannedComponent => {
      const tensorrtllm = section.kind === "backend" && section.name === "tensorrtllm" ? input.tensorrtllm : undefined;
      const lines = tensorrtllm ? rewriteTensorrtllmSection(section.lines, tensorrtllm) : section.lines;
      if (tensorrtllm && !buildWheelLine(lines)) {
        const message = "the tensorrtllm section of cmake_build has no build_wheel.py line: the default job count does not reach TensorRT-LLM's build";
        warnings.push(message);
        emit({ type: "warning", message });
      }
      const settings: Record<string, string> = tensorrtllm?.cudaArch ? { cudaArch: tensorrtllm.cudaArch } : {};
      const base = { name: section.name, kind: section.kind, section, lines, settings, ...pick(section, "tag", "repoUrl") };
      if (section.kind === "ci" && !input.ciImage) return { ...base, action: "skip", reason: "CI artifacts are built only with --ci-image" };
      return { ...base, action: "build" };
    });
    return {
      preset: input.preset,
      source,
      checkoutDir: input.checkoutDir,
      python,
      buildpy: { argv, command: shellQuote([python.executable, "build.py", ...argv]) },
      images: { refs: images.refs, recipes: images.recipes },
      cmakeBuild,
      buildbaseDockerfile: scripts.buildbaseDockerfile,
      dockerSteps: parseDockerBuild(scripts.dockerBuild),
      components,
      warnings,
    };
  });
}

/**
 * build.py's command line for the preset with its images resolved. build.py's one
 * `docker build --pull` is of Dockerfile.buildbase, FROM the base image
 * (server@r24.05:build.py#L1503-1515); a base built from a recipe exists only on this daemon,
 * so the printed command must not ask to pull it.
 */
export function planBuildpyArgv(preset: Preset, options: PlanInput["argv"], images: Pick<ResolvedImages, "refs" | "recipes">): string[] {
  const baseFromRecipe = images.recipes.some((recipe) => recipe.name === "base");
  return buildpyArgv(preset, { ...options, pull: options.pull && !baseFromRecipe, imageRefs: images.refs });
}

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
