import type { RemoteCache } from "../../../cache/remote.js";
import { EntryGoneError, type LocalCache } from "../../../cache/store.js";
import { tagExists } from "../../../docker/registry.js";
import { CacheIntegrityError, errorMessage } from "../../../errors.js";
import type { Emit } from "../../../run/events.js";
import type { CacheDecision } from "../cache-plan.js";
import type { PlannedComponent } from "../plan.js";

/** The caches a run uses, and where it reports. */
export interface CacheAccess {
  cache: LocalCache;
  remote: RemoteCache | undefined;
  emit: Emit;
}

export interface RestoredComponent {
  name: string;
  /** The install tree paths it brought (backends/<name>, or core's bin/, lib/, ...). */
  roots: string[];
  source: "local" | "remote";
}

export interface RestoreResult {
  restored: RestoredComponent[];
  /** Components whose entry could not be used after all, and why (the decision said hit, or the remote cache had it). */
  missed: Map<string, string>;
}

/**
 * Restores every hit into the install tree: from the local cache, else from the remote one (also
 * after a corrupt local entry was evicted). A bad entry is evicted and reported, and its
 * component is built instead; the cache never fails a build. Returns what it restored and why
 * the others could not be; the decisions are not changed.
 */
export async function restoreHits(
  access: CacheAccess,
  decisions: ReadonlyMap<string, CacheDecision>,
  installRoot: string,
  signal: AbortSignal,
): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], missed: new Map() };
  for (const decision of decisions.values()) {
    signal.throwIfAborted();
    const outcome = await restoreOne(access, decision, installRoot, signal);
    if ("roots" in outcome) result.restored.push({ name: decision.name, roots: outcome.roots, source: outcome.source });
    else if (outcome.reason) result.missed.set(decision.name, outcome.reason);
  }
  return result;
}

async function restoreOne(
  access: CacheAccess,
  decision: CacheDecision,
  installRoot: string,
  signal: AbortSignal,
): Promise<{ roots: string[]; source: "local" | "remote" } | { reason?: string }> {
  const { key } = decision;
  if (!key) return {};
  const sources: Array<"local" | "remote"> = decision.hit ? ["local"] : [];
  if (access.remote) sources.push("remote");
  let reason: string | undefined;
  for (const [index, source] of sources.entries()) {
    if (source === "remote" && !(await access.remote?.fetch(decision.name, key, access.cache, signal))) return reason ? { reason } : {};
    const next = sources[index + 1] === "remote" ? "trying the remote cache" : "building it instead";
    try {
      const restored = await access.cache.restore(key, installRoot, signal);
      access.emit({
        type: "component-cached",
        name: decision.name,
        restoreMs: restored.ms,
        ...(restored.manifest.buildDurationMs !== undefined ? { savedMs: restored.manifest.buildDurationMs } : {}),
        source,
      });
      return { roots: restored.manifest.roots, source };
    } catch (error) {
      signal.throwIfAborted();
      const message = errorMessage(error);
      if (error instanceof CacheIntegrityError) {
        await access.cache.evict(key).catch(() => undefined);
        reason = `entry evicted: ${message}`;
        access.emit({ type: "warning", component: decision.name, message: `cache entry of ${decision.name} is corrupt and was evicted (${message}); ${next}` });
        continue;
      }
      if (error instanceof EntryGoneError) {
        reason = message;
        access.emit({ type: "warning", component: decision.name, message: `cache entry of ${decision.name}: ${message}; ${next}` });
        continue;
      }
      // Not the entry's fault (e.g. a full disk): keep it for the next run.
      reason = `restore failed: ${message}`;
      access.emit({ type: "warning", component: decision.name, message: `could not restore ${decision.name} from the cache (${reason}); building it instead` });
      return { reason };
    }
  }
  return reason ? { reason } : {};
}

/**
 * `--only`: whether a component is in the cache already (local, or the remote cache's tag), so
 * there is nothing to compile. Nothing is restored: the job builds no image.
 */
export async function isCached(access: CacheAccess, decision: CacheDecision, signal: AbortSignal): Promise<"local" | "remote" | undefined> {
  if (!decision.key) return undefined;
  if (decision.hit && (await access.cache.get(decision.key))) return "local";
  if (!access.remote) return undefined;
  const reference = access.remote.reference(decision.name, decision.key);
  const tag = reference.slice(reference.lastIndexOf(":") + 1);
  return (await tagExists(access.remote.repository, tag, signal).catch(() => false)) ? "remote" : undefined;
}

/**
 * Stores one component that finished compiling (and pushes it in readwrite mode). A storage
 * problem is a warning, not a failure. The local store is not cancelled by Ctrl-C: work that
 * finished is kept (a second Ctrl-C ends the process, and the next run removes the half-written
 * entry); the push is, since the local entry can be pushed by a later run.
 */
export async function storeBuilt(
  access: CacheAccess,
  component: PlannedComponent,
  decision: CacheDecision | undefined,
  build: { installRoot: string; durationMs?: number },
  signal?: AbortSignal,
): Promise<"stored" | "not-stored"> {
  if (!decision?.key || !decision.inputs) {
    if (decision) access.emit({ type: "info", message: `${component.name} not cached: ${decision.reason}` });
    return "not-stored";
  }
  let stored = false;
  try {
    const result = await access.cache.store({
      key: decision.key,
      inputs: decision.inputs,
      component: { name: component.name, kind: component.kind, ...(component.tag ? { tag: component.tag } : {}) },
      installRoot: build.installRoot,
      ...(build.durationMs !== undefined ? { buildDurationMs: build.durationMs } : {}),
    });
    if (result === "empty") {
      access.emit({ type: "warning", component: component.name, message: `${component.name} installed no files; nothing to cache` });
      return "not-stored";
    }
    stored = true;
    if (result === "stored") access.emit({ type: "phase-output", phase: "collect", line: `cached ${component.name} as ${decision.key.slice(0, 12)}` });
    if (signal?.aborted) return "stored";
    const pushed = await access.remote?.push(component.name, decision.key, access.cache, signal);
    if (pushed === "pushed")
      access.emit({ type: "phase-output", phase: "collect", line: `pushed ${component.name} to ${access.remote?.reference(component.name, decision.key)}` });
    return "stored";
  } catch (error) {
    if (stored && signal?.aborted) return "stored";
    access.emit({ type: "warning", component: component.name, message: `could not cache ${component.name}: ${errorMessage(error)}` });
    return stored ? "stored" : "not-stored";
  }
}
