/**
 * Names of the Docker objects one run makes. Every one holds the run id, so parallel runs on one
 * engine never collide, and the objects of a run that was killed can be found by the next run
 * (leftovers.ts).
 */
export interface RunNames {
  /** The builder container of one job (a component, or `all` when one builder compiles everything). */
  builder(job: string): string;
  buildbase: string;
  /**
   * The newest buildbase image, kept under one tag per engine: removing a run's only tag would
   * delete the image's last layer too, and the next run's classic builder would redo that step
   * (a full copy of the image's file system on the vfs storage driver, about 1 s).
   */
  buildbaseCache: string;
  final: string;
  cibase: string;
  /** Compose's image before it is checked and tagged. */
  compose: string;
  /** The volume that marks the run as alive on an engine (its labels name the process). */
  lease: string;
}

export function runNames(runId: string): RunNames {
  return {
    builder: (job) => `triton-build-builder-${runId}${job === "all" ? "" : `-${containerSafe(job)}`}`,
    buildbase: `triton-build/buildbase:${runId}`,
    buildbaseCache: "triton-build/buildbase:cache",
    final: `triton-build/final:${runId}`,
    cibase: `triton-build/cibase:${runId}`,
    compose: `triton-build/compose:${runId}`,
    lease: `triton-build-run-${runId}`,
  };
}

/** Container names allow [a-zA-Z0-9_.-]; component names are backend names, which are close. */
function containerSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]+/g, "_");
}
