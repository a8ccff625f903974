import type { DockerEngine } from "../../docker/engine.js";
import type { Emit } from "../../run/events.js";
import { createPlan, type Plan } from "./plan.js";
import { resolveResources, type BuildResources } from "./resources.js";
import type { CommonSettings } from "../../run/settings.js";

/**
 * The plan a build with these settings makes: resources (jobs, CUDA architectures) chosen, then
 * createPlan. `build`, `plan` and `cache explain` share it, so they compute the same cache keys.
 */
export async function planFor(
  settings: CommonSettings,
  checkoutDir: string,
  emit: Emit,
  signal?: AbortSignal,
  /** The engine that compiles; default: the docker CLI's. */
  engine?: Pick<DockerEngine, "info">,
): Promise<{ plan: Plan; resources: BuildResources }> {
  const resources = await resolveResources({
    preset: settings.preset,
    jobs: settings.jobs,
    ...(settings.cudaArch ? { cudaArch: settings.cudaArch } : {}),
    signal,
    engine,
  });
  emit({ type: "info", message: resources.jobsReason });
  if (resources.cudaArchReason) emit({ type: "info", message: resources.cudaArchReason });
  const plan = await createPlan({
    preset: settings.preset,
    sourceUrl: settings.sourceUrl,
    ref: settings.ref,
    python: settings.python,
    cacheDir: settings.cacheDir,
    checkoutDir,
    offline: settings.offline,
    argv: {
      interactive: settings.interactive,
      pull: settings.pull,
      jobs: resources.jobs,
      ...(settings.githubOrganization ? { githubOrganization: settings.githubOrganization } : {}),
    },
    ciImage: settings.ciImage,
    tensorrtllm: { jobs: resources.jobs, jobsGiven: settings.jobs !== undefined, ...(resources.cudaArch ? { cudaArch: resources.cudaArch } : {}) },
    signal,
    emit,
  });
  return { plan, resources };
}
