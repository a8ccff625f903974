/**
 * Names of the Docker objects one run makes. Each holds the run id (but the buildbase cache tag,
 * which outlives the run on purpose), so parallel runs on one engine never collide, and the objects of a run that was killed can be found by the next run
 * (leftovers.ts).
 */
export interface RunNames {
  /** The builder container of one job (a component, or `all` when one builder compiles everything). */
  builder(job: string): string;
  buildbase: string;
  /**
   * A buildbase image kept for the next runs, under a tag per content (`content`: a hash of what
   * it is built from), the one name here that is not the run's own: removing a run's only tag
   * would delete the image's last layer too, and the next run's classic builder would redo that
   * step (a full copy of the image's file system on the vfs storage driver, about 1 s). Per
   * content, so runs of other presets or commits on the engine do not take the tag away; the
   * newest BUILDBASE_CACHE_KEEP are kept.
   */
  buildbaseCache(content: string): string;
  final: string;
  cibase: string;
  /** Compose's image before it is checked and tagged. */
  compose: string;
  /** The volume that marks the run as alive on an engine (its labels name the process). */
  lease: string;
}

export const BUILDBASE_REPOSITORY = "triton-build/buildbase";
export const BUILDBASE_CACHE_PREFIX = "cache-";
/** Buildbase images kept per engine for the next runs' layer cache: they share their base layers, each adds about a checkout. */
export const BUILDBASE_CACHE_KEEP = 8;

export function runNames(runId: string): RunNames {
  return {
    builder: (job) => `triton-build-builder-${runId}${job === "all" ? "" : `-${containerSafe(job)}`}`,
    buildbase: `${BUILDBASE_REPOSITORY}:${runId}`,
    buildbaseCache: (content) => `${BUILDBASE_REPOSITORY}:${BUILDBASE_CACHE_PREFIX}${content}`,
    final: `triton-build/final:${runId}`,
    cibase: `triton-build/cibase:${runId}`,
    compose: `triton-build/compose:${runId}`,
    lease: `triton-build-run-${runId}`,
  };
}

/** Container names allow [a-zA-Z0-9_.-]; component names are backend names, which are close. */
export function containerSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]+/g, "_");
}
