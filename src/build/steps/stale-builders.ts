import { listLabelledContainers, removeContainer } from "../../docker/container.js";
import { isProcessAlive, processHost } from "../../util/process.js";
import type { Emit } from "../events.js";

/** Labels on a run's builder container, so a later run can tell whether its owner is gone. */
export function builderLabels(runId: string): Record<string, string> {
  return { "triton-build.run": runId, "triton-build.pid": String(process.pid), "triton-build.host": processHost() };
}

/**
 * A run killed with -9 cannot remove its builder container. The next run on this host removes
 * the builder containers of runs whose process no longer exists.
 */
export async function removeStaleBuilders(emit: Emit, signal?: AbortSignal): Promise<void> {
  const containers = await listLabelledContainers("triton-build.run", signal ? { signal } : {}).catch(() => []);
  for (const container of containers) {
    const pid = Number(container.labels["triton-build.pid"]);
    if (container.labels["triton-build.host"] !== processHost() || !Number.isInteger(pid) || isProcessAlive(pid)) continue;
    await removeContainer(container.name).then(
      () => emit({ type: "info", message: `removed ${container.name}, left by a run that no longer exists` }),
      () => undefined,
    );
  }
}
