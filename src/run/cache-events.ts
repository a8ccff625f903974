import type { FetchOutcome, HasOutcome, PushOutcome, RemoteUnavailable } from "../cache/remote.js";
import type { RestoreStep, StoreStep } from "../cache/tiers.js";
import type { Emit } from "./events.js";

/**
 * What the cache did, told to the user: the cache returns outcomes, this turns them into events.
 * The remote cache gets one warning per run: the first side of it that becomes unusable is a
 * warning, a later problem with the other side is information (the user already knows).
 */
export class CacheEventReporter {
  private warned = false;

  constructor(
    private readonly emit: Emit,
    private readonly repository?: string,
  ) {}

  /** Emits what one restore step means; returns why the component is not restored (for the plan), if that step says so. */
  restoreStep(component: string, step: RestoreStep): string | undefined {
    const next = (to: "remote" | "build") => (to === "remote" ? "trying the remote cache" : "building it instead");
    switch (step.status) {
      case "restored": {
        const { result, source } = step;
        const savedMs = result.manifest.buildDurationMs;
        this.emit({ type: "component-cached", name: component, restoreMs: result.ms, ...(savedMs !== undefined ? { savedMs } : {}), source });
        return undefined;
      }
      case "evicted":
        this.emit({ type: "warning", component, message: `cache entry of ${component} is corrupt and was evicted (${step.problem}); ${next(step.next)}` });
        return `entry evicted: ${step.problem}`;
      case "gone":
        this.emit({ type: "warning", component, message: `cache entry of ${component}: ${step.problem}; ${next(step.next)}` });
        return step.problem;
      case "kept":
        this.emit({
          type: "warning",
          component,
          message: `could not restore ${component} from the cache (restore failed: ${step.problem}); building it instead`,
        });
        return `restore failed: ${step.problem}`;
      case "fetched":
        this.fetched(component, step.reference, step.outcome);
        return undefined;
    }
  }

  fetched(component: string, reference: string, outcome: FetchOutcome): void {
    if (outcome.status === "rejected" || outcome.status === "failed")
      this.emit({ type: "warning", component, message: `remote cache entry ${reference} was not used: ${outcome.reason}` });
    else this.remote(outcome);
  }

  /** Emits what storing a built component (and sharing it) did. */
  stored(component: string, key: string, step: StoreStep, reference?: string): void {
    if (step.stored === "stored") this.emit({ type: "phase-output", phase: "collect", line: `cached ${component} as ${key.slice(0, 12)}` });
    if (step.stored === "empty") this.emit({ type: "warning", component, message: `${component} installed no files; nothing to cache` });
    if (!step.push) return;
    if (step.push.status === "pushed") this.emit({ type: "phase-output", phase: "collect", line: `pushed ${component} to ${reference}` });
    else if (step.push.status === "replaced")
      this.emit({ type: "phase-output", phase: "collect", line: `pushed ${component} to ${reference}, replacing the entry this run rejected` });
    else this.remote(step.push);
  }

  /** The one warning (then information) when a side of the remote cache becomes unusable; other outcomes say nothing. */
  remote(outcome: FetchOutcome | PushOutcome | HasOutcome): void {
    if (outcome.status !== "unavailable") return;
    this.unavailable(outcome);
  }

  private unavailable(outcome: RemoteUnavailable): void {
    const what = outcome.lost === "both" ? "is unavailable" : outcome.lost === "read" ? "cannot be read" : "cannot be written";
    const message = `remote cache ${this.repository} ${what} (${outcome.reason}); continuing without it`;
    this.emit(this.warned ? { type: "info", message } : { type: "warning", message });
    this.warned = true;
  }
}
