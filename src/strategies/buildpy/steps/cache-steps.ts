import type { RemoteCache } from "../../../cache/remote.js";
import { EntryGoneError, type LocalCache } from "../../../cache/store.js";
import { CacheIntegrityError, errorMessage } from "../../../errors.js";
import type { CacheDecision } from "../cache-plan.js";
import type { Emit } from "../../../run/events.js";
import type { PlannedComponent } from "../plan.js";
import type { BuilderOutcome } from "./builder.js";

/** What both cache steps work with. */
export interface CacheStepInput {
  decisions: Map<string, CacheDecision>;
  cache: LocalCache;
  remote?: RemoteCache;
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
  const { key } = decision;
  if (!key) return undefined;
  const sources: Array<"local" | "remote"> = decision.hit ? ["local"] : [];
  if (input.remote) sources.push("remote");
  for (const [index, source] of sources.entries()) {
    if (source === "remote" && !(await input.remote?.fetch(decision.name, key, input.cache, input.signal))) return undefined;
    const next = sources[index + 1] === "remote" ? "trying the remote cache" : "building it instead";
    try {
      const result = await input.cache.restore(key, input.installRoot, input.signal);
      Object.assign(decision, { hit: true, source, ...(source === "remote" ? { reason: "pulled from the remote cache" } : {}) });
      input.emit({
        type: "component-cached",
        name: decision.name,
        restoreMs: result.ms,
        ...(result.manifest.buildDurationMs !== undefined ? { savedMs: result.manifest.buildDurationMs } : {}),
        source,
      });
      return result.manifest.roots;
    } catch (error) {
      input.signal?.throwIfAborted();
      decision.hit = false;
      const message = errorMessage(error);
      if (error instanceof CacheIntegrityError) {
        await input.cache.evict(key).catch(() => undefined);
        decision.reason = `entry evicted: ${message}`;
        input.emit({ type: "warning", component: decision.name, message: `cache entry of ${decision.name} is corrupt and was evicted (${message}); ${next}` });
        continue;
      }
      if (error instanceof EntryGoneError) {
        decision.reason = message;
        input.emit({ type: "warning", component: decision.name, message: `cache entry of ${decision.name}: ${message}; ${next}` });
        continue;
      }
      // Not the entry's fault (e.g. a full disk): keep it for the next run.
      decision.reason = `restore failed: ${message}`;
      input.emit({
        type: "warning",
        component: decision.name,
        message: `could not restore ${decision.name} from the cache (${decision.reason}); building it instead`,
      });
      return undefined;
    }
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
      const result = await input.cache.store({
        key: decision.key,
        inputs: decision.inputs,
        component: { name: component.name, kind: component.kind, ...(component.tag ? { tag: component.tag } : {}) },
        installRoot: input.installRoot,
        ...(durationMs !== undefined ? { buildDurationMs: durationMs } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      if (result === "stored") input.emit({ type: "phase-output", phase: "collect", line: `cached ${component.name} as ${decision.key.slice(0, 12)}` });
      if (result === "empty") {
        input.emit({ type: "warning", component: component.name, message: `${component.name} installed no files; nothing to cache` });
        continue;
      }
      const pushed = await input.remote?.push(component.name, decision.key, input.cache, input.signal);
      if (pushed === "pushed")
        input.emit({ type: "phase-output", phase: "collect", line: `pushed ${component.name} to ${input.remote?.reference(component.name, decision.key)}` });
    } catch (error) {
      input.signal?.throwIfAborted();
      input.emit({ type: "warning", component: component.name, message: `could not cache ${component.name}: ${errorMessage(error)}` });
    }
  }
}
