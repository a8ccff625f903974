import type { CacheSource, CacheTiers } from "../../../cache/tiers.js";
import { errorMessage } from "../../../errors.js";
import type { CacheEventReporter } from "../../../run/cache-events.js";
import type { Emit } from "../../../run/events.js";
import type { CacheDecision } from "../cache-plan.js";
import type { PlannedComponent } from "../plan.js";

/** The caches a run uses (local and remote, as tiers.ts joins them), and where it reports. */
export interface CacheAccess {
  cache: CacheTiers;
  /** Turns the cache's outcomes into events (cache-events.ts). */
  report: CacheEventReporter;
  emit: Emit;
}

export interface RestoredComponent {
  name: string;
  /** The install tree paths it brought (backends/<name>, or core's bin/, lib/, ...). */
  roots: string[];
  source: CacheSource;
}

export interface RestoreResult {
  restored: RestoredComponent[];
  /** Components whose entry could not be used after all, and why (the decision said hit, or the remote cache had it). */
  missed: Map<string, string>;
}

/**
 * Restores every hit into the install tree: from the local cache, else from the remote one (also
 * after a bad local entry was evicted). A bad entry is evicted and reported, and its component
 * is built instead (a rejected remote entry is then replaced by the rebuilt one); the cache never
 * fails a build. Returns what it restored and why the others could not be; the decisions are not
 * changed.
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
): Promise<{ roots: string[]; source: CacheSource } | { reason?: string }> {
  const { key, inputs } = decision;
  if (!key || !inputs) return {};
  const steps = await access.cache.restore(inputs.component, key, installRoot, { localHit: decision.hit, signal });
  let reason: string | undefined;
  for (const step of steps) {
    const why = access.report.restoreStep(decision.name, step);
    if (step.status === "restored") return { roots: step.result.manifest.roots, source: step.source };
    if (why !== undefined) reason = why;
    // What --cached-only names when the remote cache had the entry and it could not be used.
    else if (step.status === "fetched" && step.outcome.status !== "hit" && step.outcome.status !== "miss") {
      reason = `remote cache entry ${step.reference} not used: ${step.outcome.reason}`;
    }
  }
  return reason ? { reason } : {};
}

/**
 * `--only`: whether a component is in the cache already (local, or in the remote cache), so there
 * is nothing to compile. Nothing is restored: the job builds no image.
 */
export async function isCached(access: CacheAccess, decision: CacheDecision, signal: AbortSignal): Promise<CacheSource | undefined> {
  const { key, inputs } = decision;
  if (!key || !inputs) return undefined;
  if (decision.hit && (await access.cache.local.get(key))) return "local";
  if (!access.cache.remote) return undefined;
  const outcome = await access.cache.remote.has(inputs.component, key, signal);
  access.report.remote(outcome);
  return outcome.status === "present" ? "remote" : undefined;
}

/**
 * Stores one component that finished compiling, through the tiers: locally, then (readwrite)
 * pushed, over a remote entry this run rejected. A storage problem is a warning, not a failure.
 * The local store is not cancelled by Ctrl-C: work that finished is kept (a second Ctrl-C ends
 * the process, and the next run removes the half-written entry); the push is, since a later run
 * can push the local entry.
 */
export async function storeBuilt(
  access: CacheAccess,
  component: PlannedComponent,
  decision: CacheDecision | undefined,
  build: { installRoot: string; durationMs?: number },
  signal: AbortSignal,
): Promise<"stored" | "not-stored"> {
  if (!decision?.key || !decision.inputs) {
    if (decision) access.emit({ type: "info", message: `${component.name} not cached: ${decision.reason}` });
    return "not-stored";
  }
  const { key } = decision;
  try {
    const step = await access.cache.store(
      {
        key,
        inputs: decision.inputs,
        component: { name: component.name, kind: component.kind, ...(component.tag ? { tag: component.tag } : {}) },
        installRoot: build.installRoot,
        buildDurationMs: build.durationMs,
      },
      { pushSignal: signal },
    );
    access.report.stored(component.name, key, step, access.cache.remote?.reference(component.name, key));
    return step.stored === "empty" ? "not-stored" : "stored";
  } catch (error) {
    // Stored locally, then the push was cut short by Ctrl-C: what matters is kept.
    if (signal.aborted && (await access.cache.local.get(key))) return "stored";
    access.emit({ type: "warning", component: component.name, message: `could not cache ${component.name}: ${errorMessage(error)}` });
    return "not-stored";
  }
}
