import type { CacheTiers } from "../../../cache/tiers.js";
import { errorMessage } from "../../../errors.js";
import type { CacheEventReporter } from "../../../run/cache-events.js";
import type { CacheDecision } from "../cache-plan.js";
import type { Emit } from "../../../run/events.js";
import type { PlannedComponent } from "../plan.js";
import type { BuilderOutcome } from "./builder.js";

/** What both cache steps work with. */
export interface CacheStepInput {
  decisions: Map<string, CacheDecision>;
  cache: CacheTiers;
  report: CacheEventReporter;
  installRoot: string;
  emit: Emit;
  signal?: AbortSignal;
}

/**
 * Restores every hit into the install tree: from the local cache, else from the remote one (also
 * after a corrupt local entry was evicted). A bad entry is evicted and reported, and its
 * component is built instead; the cache never fails a build. Returns what was restored.
 */
export async function restoreHits(input: CacheStepInput): Promise<Array<{ name: string; roots: string[] }>> {
  const restored: Array<{ name: string; roots: string[] }> = [];
  for (const decision of input.decisions.values()) {
    input.signal?.throwIfAborted();
    const roots = await restoreOne(input, decision);
    if (roots) restored.push({ name: decision.name, roots });
  }
  return restored;
}

async function restoreOne(input: CacheStepInput, decision: CacheDecision): Promise<string[] | undefined> {
  const { key, inputs } = decision;
  if (!key || !inputs) return undefined;
  const steps = await input.cache.restore(inputs.component, key, input.installRoot, { localHit: decision.hit, signal: input.signal });
  for (const step of steps) {
    const reason = input.report.restoreStep(decision.name, step);
    if (step.status === "restored") {
      Object.assign(decision, { hit: true, source: step.source, ...(step.source === "remote" ? { reason: "pulled from the remote cache" } : {}) });
      return step.result.manifest.roots;
    }
    if (reason !== undefined) Object.assign(decision, { hit: false, reason });
  }
  return undefined;
}

/** Stores each component that finished compiling; a storage problem is a warning, not a failure. */
export async function storeBuilt(input: CacheStepInput & { components: PlannedComponent[]; outcome: BuilderOutcome }): Promise<void> {
  for (const component of input.components) {
    input.signal?.throwIfAborted();
    const decision = input.decisions.get(component.name);
    if (!decision?.key || !decision.inputs) {
      if (decision) input.emit({ type: "info", message: `${component.name} not cached: ${decision.reason}` });
      continue;
    }
    const durationMs = input.outcome.finished.find((f) => f.name === component.name)?.durationMs;
    try {
      const step = await input.cache.store({
        key: decision.key,
        inputs: decision.inputs,
        component: { name: component.name, kind: component.kind, ...(component.tag ? { tag: component.tag } : {}) },
        installRoot: input.installRoot,
        ...(durationMs !== undefined ? { buildDurationMs: durationMs } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      input.report.stored(component.name, decision.key, step, input.cache.remote?.reference(component.name, decision.key));
    } catch (error) {
      input.signal?.throwIfAborted();
      input.emit({ type: "warning", component: component.name, message: `could not cache ${component.name}: ${errorMessage(error)}` });
    }
  }
}
