import { componentKeyInputs, createKeyContext } from "../../cache/inputs.js";
import { cacheKey, diffInputs, unresolvedReason, type KeyInputs } from "../../cache/key.js";
import type { Manifest } from "../../cache/manifest.js";
import type { LocalCache } from "../../cache/store.js";
import type { DockerEngine } from "../../docker/engine.js";
import type { Plan, PlannedComponent } from "./plan.js";

/** Hit or miss of one component, with its key and, for a miss, why. */
export interface CacheDecision {
  name: string;
  hit: boolean;
  /** Undefined when the inputs could not all be resolved: such a component is never stored. */
  key?: string;
  inputs?: KeyInputs;
  reason: string;
  manifest?: Manifest;
  /** Where a hit came from. */
  source?: "local" | "remote";
  /** How long this component compiled when its newest entry was made (for handing out work longest first). */
  lastBuildMs?: number;
}

export interface CachePlanOptions {
  offline: boolean;
  pull: boolean;
  signal?: AbortSignal;
  /** The engine whose base image and platform the keys name (the first engine); default: the docker CLI's. */
  engine?: Pick<DockerEngine, "info" | "inspectImage">;
  /** Said once per plan, e.g. that the component repositories cannot be reached. */
  onWarning?: (message: string) => void;
}

/** Keys for every component the plan builds, and what the local cache has for each. */
export async function planCache(plan: Plan, cache: LocalCache, options: CachePlanOptions): Promise<Map<string, CacheDecision>> {
  const context = await createKeyContext({
    server: { url: plan.source.url, ref: plan.source.ref, commit: plan.source.commit },
    buildbaseDockerfile: plan.buildbaseDockerfile,
    recipes: plan.images.recipes.map((r) => ({ tag: r.tag, ...(r.commit ? { commit: r.commit } : {}) })),
    offline: options.offline,
    pull: options.pull,
    signal: options.signal,
    engine: options.engine,
  });
  const buildable = plan.components.filter((c) => c.action === "build" && c.kind !== "ci");
  // Every manifest is read once, not once per missed component.
  const newest = new Map<string, Manifest>();
  for (const { manifest } of await cache.list()) {
    const known = newest.get(manifest.component.name);
    if (!known || manifest.createdAt > known.createdAt) newest.set(manifest.component.name, manifest);
  }
  const decisions = await Promise.all(buildable.map((component) => decide(component, context, cache, newest.get(component.name))));
  const warning = unreachableReposWarning(context.unreachable ?? new Map());
  if (warning) options.onWarning?.(warning);
  return new Map(
    decisions.map((d) => {
      const lastBuildMs = d.manifest?.buildDurationMs ?? newest.get(d.name)?.buildDurationMs;
      return [d.name, lastBuildMs === undefined ? d : { ...d, lastBuildMs }];
    }),
  );
}

async function decide(
  component: PlannedComponent,
  context: Awaited<ReturnType<typeof createKeyContext>>,
  cache: LocalCache,
  newest: Manifest | undefined,
): Promise<CacheDecision> {
  const inputs = await componentKeyInputs(component.section, context, component.lines, component.settings);
  const unresolved = unresolvedReason(inputs);
  if (unresolved) return { name: component.name, hit: false, inputs, reason: unresolved };
  const key = cacheKey(inputs);
  const manifest = await cache.get(key);
  if (manifest) return { name: component.name, hit: true, key, inputs, reason: "entry found", manifest, source: "local" };
  if (!newest) return { name: component.name, hit: false, key, inputs, reason: "no entry" };
  const differences = diffInputs(inputs, newest.inputs);
  return {
    name: component.name,
    hit: false,
    key,
    inputs,
    reason: `differs from the newest entry ${newest.key.slice(0, 12)}: ${differences.join("; ") || "key inputs changed"}`,
  };
}

/**
 * One line for every repository ls-remote could not read (a mirrored server with GitHub out of
 * reach, a wrong --github-organization): each component's own reason only says "unreachable".
 */
export function unreachableReposWarning(unreachable: ReadonlyMap<string, string>): string | undefined {
  if (unreachable.size === 0) return undefined;
  // Sorted: ls-remote calls finish in any order, and the same plan must print the same line.
  const urls = [...unreachable.keys()].sort();
  const organizations = [...new Set(urls.map((url) => url.replace(/\/[^/]*$/, "")))];
  const because = (unreachable.get(urls[0] ?? "") ?? "").replace(/^(fatal|error):\s*/i, "");
  const count = unreachable.size === 1 ? "1 component repository" : `${unreachable.size} component repositories`;
  return `cache keys need the component repositories: pass --github-organization URL (where they are mirrored); ${count} at ${organizations.join(", ")} cannot be read (${because}), so the components built from them are cache misses`;
}
