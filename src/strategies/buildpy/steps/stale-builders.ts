import { listLabelledContainers, removeContainer } from "../../../docker/container.js";
import { untagImage } from "../../../docker/image.js";
import { isProcessAlive, processHost } from "../../../util/process.js";
import type { Emit } from "../../../run/events.js";
import { removeNestedObjects } from "./nested-docker.js";

/** Labels on a run's builder container, so a later run can tell whether its owner is gone. */
export function builderLabels(runId: string): Record<string, string> {
  return { "triton-build.run": runId, "triton-build.pid": String(process.pid), "triton-build.host": processHost() };
}

/**
 * A run killed with -9 cannot remove its builder container, nor untag its images. The next run on
 * this host removes the builder containers of runs whose process no longer exists, and those
 * runs' tags (`runTags`), so their layers can be pruned.
 */
export async function removeStaleBuilders(emit: Emit, runTags: (runId: string) => string[], signal?: AbortSignal): Promise<void> {
  const containers = await listLabelledContainers("triton-build.run", signal ? { signal } : {}).catch(() => []);
  for (const container of containers) {
    const pid = Number(container.labels["triton-build.pid"]);
    if (container.labels["triton-build.host"] !== processHost() || !Number.isInteger(pid) || isProcessAlive(pid)) continue;
    const removed = await removeContainer(container.name).then(
      () => true,
      () => false,
    );
    if (!removed) continue;
    const runId = container.labels["triton-build.run"];
    for (const tag of runId ? runTags(runId) : []) await untagImage(tag).catch(() => undefined);
    // What backends made on the daemon under this run's names (nested-docker.ts).
    if (runId) await removeNestedObjects(runId);
    emit({ type: "info", message: `removed ${container.name} and its run's image tags, left by a run that no longer exists` });
  }
}
