import { errorMessage } from "../errors.js";
import type { FetchOutcome, PushOutcome, RemoteCache } from "./remote.js";
import { EntryGoneError, type LocalCache, type RestoreResult, type StoreRequest } from "./store.js";
import type { CacheComponent } from "./validate.js";

/**
 * The local cache and the remote one together, as a run uses them: restore a component's entry
 * from wherever it is sound, heal what is not, store and share what was built. Returns what
 * happened as data; the run turns it into events.
 *
 * Healing: any failure of an entry while it is restored (a hash, a link, EEXIST, a bad mode,
 * anything but a problem of this machine) evicts it, and the component is fetched again or
 * built. An entry the remote cache served and this run refused is replaced by the one this run
 * builds (in readwrite mode), or every later run would pay the rebuild again.
 */

export type CacheSource = "local" | "remote";

export type RestoreStep =
  | { status: "restored"; source: CacheSource; result: RestoreResult }
  /** The entry was bad and is gone; `next` is what is tried instead. */
  | { status: "evicted"; source: CacheSource; problem: string; next: "remote" | "build" }
  /** The entry disappeared since the plan (a prune meanwhile). */
  | { status: "gone"; source: CacheSource; problem: string; next: "remote" | "build" }
  /** A problem of this machine (full disk, permissions): the entry is kept for a later run; the component is built. */
  | { status: "kept"; source: CacheSource; problem: string }
  | { status: "fetched"; reference: string; outcome: FetchOutcome };

export interface StoreStep {
  stored: "stored" | "exists" | "empty";
  /** What the remote cache did with the entry, when there is one. */
  push?: PushOutcome;
}

/** errno codes that are this machine's problem, not the entry's: the entry is kept. */
const MACHINE_PROBLEMS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EMFILE", "ENFILE", "EIO"]);

export class CacheTiers {
  /** Keys whose remote entry this run refused: the rebuilt entry is pushed over it. */
  private readonly toReplace = new Set<string>();

  constructor(
    readonly local: LocalCache,
    readonly remote: RemoteCache | undefined,
    private readonly signingKey: string | undefined,
  ) {}

  /**
   * Restores `component`'s entry under `key` into `installRoot`: from the local cache when the
   * plan found it there (`localHit`), else, or after evicting a bad one, from the remote cache.
   * The steps in order; the last is "restored" when it worked.
   */
  async restore(component: CacheComponent, key: string, installRoot: string, options: { localHit: boolean; signal?: AbortSignal }): Promise<RestoreStep[]> {
    const { signal } = options;
    const steps: RestoreStep[] = [];
    const sources: CacheSource[] = options.localHit ? ["local"] : [];
    if (this.remote) sources.push("remote");
    for (const [index, source] of sources.entries()) {
      if (source === "remote" && this.remote) {
        const into = this.local.incoming(key, component, { signingKey: this.signingKey });
        const outcome = await this.remote.fetch(component, key, into, signal);
        steps.push({ status: "fetched", reference: this.remote.reference(component.name, key), outcome });
        if (outcome.status === "rejected") this.toReplace.add(key);
        if (outcome.status !== "hit") return steps;
      }
      const next = sources[index + 1] === "remote" ? "remote" : "build";
      try {
        const result = await this.local.restore(key, installRoot, { component, signal });
        steps.push({ status: "restored", source, result });
        return steps;
      } catch (error) {
        signal?.throwIfAborted();
        const problem = errorMessage(error);
        if (error instanceof EntryGoneError) {
          steps.push({ status: "gone", source, problem, next });
          continue;
        }
        if (MACHINE_PROBLEMS.has(String((error as NodeJS.ErrnoException)?.code))) {
          steps.push({ status: "kept", source, problem });
          return steps;
        }
        await this.local.evict(key).catch(() => undefined);
        if (source === "remote") this.toReplace.add(key);
        steps.push({ status: "evicted", source, problem, next });
      }
    }
    return steps;
  }

  /** Stores a built component locally, then shares it: over a rejected remote entry, else only where the registry lacks it. */
  async store(request: StoreRequest): Promise<StoreStep> {
    const stored = await this.local.store(request);
    if (stored === "empty" || !this.remote) return { stored };
    const entry = await this.local.outgoing(request.key, { signingKey: this.signingKey });
    if (!entry) return { stored };
    const component = { name: request.component.name, kind: request.component.kind };
    const push = await this.remote.push(component, request.key, entry, { replace: this.toReplace.has(request.key) }, request.signal);
    if (push.status === "replaced" || push.status === "pushed") this.toReplace.delete(request.key);
    return { stored, push };
  }
}
