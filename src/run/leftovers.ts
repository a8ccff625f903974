import type { DockerEngine } from "../docker/engine.js";
import { isProcessAlive, processHost } from "../util/process.js";
import type { Emit } from "./events.js";
import type { RunNames } from "./names.js";

/**
 * A run killed with -9 cannot remove what it made on an engine. Every run therefore holds a
 * lease there (a labelled volume naming its process), labels its containers the same way, and
 * names every image tag and container with its run id; the next run on that engine removes the
 * objects of runs whose process is gone.
 */

export const RUN_LABEL = "triton-build.run";

/** Labels of everything a run makes: whose it is, and where its process can be checked. */
export function runLabels(runId: string): Record<string, string> {
  return { [RUN_LABEL]: runId, "triton-build.pid": String(process.pid), "triton-build.host": processHost() };
}

/** Marks the run as alive on the engine; returns the clean-up that ends the lease. */
export async function takeLease(engine: DockerEngine, names: RunNames, runId: string): Promise<() => Promise<void>> {
  await engine.createVolume(names.lease, runLabels(runId));
  return () => engine.removeVolume(names.lease);
}

/** Whether labels name a process of this host (PID namespace) that no longer exists. */
function ownerIsGone(labels: Record<string, string>): boolean {
  const pid = Number(labels["triton-build.pid"]);
  return labels["triton-build.host"] === processHost() && Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid);
}

/**
 * Removes the containers, image tags and lease of every run on this engine whose process is gone
 * (only runs of this host: a pid means nothing elsewhere). Tags are removed without pruning their
 * layers, which other runs' image builds use as their cache.
 */
export async function removeDeadRuns(engine: DockerEngine, emit: Emit, signal?: AbortSignal): Promise<string[]> {
  const options = signal ? { signal } : {};
  const [leases, containers] = await Promise.all([
    engine.listLabelledVolumes(RUN_LABEL, options).catch(() => []),
    engine.listLabelledContainers(RUN_LABEL, options).catch(() => []),
  ]);
  const dead = new Set<string>();
  for (const object of [...leases, ...containers]) {
    const runId = object.labels[RUN_LABEL];
    if (runId && ownerIsGone(object.labels)) dead.add(runId);
  }
  if (dead.size === 0) return [];
  const references = await engine.listImageReferences(options).catch(() => [] as string[]);
  for (const runId of dead) {
    const removed: string[] = [];
    for (const container of containers.filter((c) => c.labels[RUN_LABEL] === runId || c.name.includes(runId))) {
      if (
        await engine.removeContainer(container.name).then(
          () => true,
          () => false,
        )
      )
        removed.push(container.name);
    }
    for (const reference of references.filter((r) => r.includes(runId))) {
      await engine.untagImage(reference).catch(() => undefined);
      removed.push(reference);
    }
    for (const lease of leases.filter((l) => l.labels[RUN_LABEL] === runId)) await engine.removeVolume(lease.name).catch(() => undefined);
    const where = engine.name === "default" ? "" : ` on engine ${engine.name}`;
    emit({
      type: "info",
      message: `removed what run ${runId} left${where} when it was killed${removed.length ? `: ${removed.join(", ")}` : " (its lease only)"}`,
    });
  }
  return [...dead];
}
