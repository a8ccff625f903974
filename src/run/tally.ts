import type { BuildEvent, ComponentResult, Emit, Phase, RunResult } from "./events.js";

/** What a strategy says when a run ends; the tally adds what its events told. */
export type RunEnding = Pick<RunResult, "status" | "image" | "error" | "failedComponent">;

/**
 * Keeps count of a run while its events pass through, so the result event can say what was built,
 * restored (from where) and saved, without each strategy tracking it. Every event of a run goes
 * through `emit`, which also makes every duration an integer number of milliseconds.
 */
export class RunTally {
  private readonly started = performance.now();
  private readonly components = new Map<string, ComponentResult>();
  private readonly phases = new Map<Phase, Extract<BuildEvent, { type: "phase-end" }>>();
  private readonly skipped: RunResult["skippedPhases"] = [];
  private strategy: "build" | "compose" = "build";
  private finished = false;

  constructor(
    private readonly downstream: Emit,
    private readonly logDir?: string,
  ) {}

  readonly emit: Emit = (raw) => {
    const event = withIntegerDurations(raw);
    this.observe(event);
    this.downstream(event);
  };

  /** The result event, once: a failure after a result (in clean-up) does not end the run twice. */
  finish(ending: RunEnding): void {
    if (this.finished) return;
    this.finished = true;
    this.emit({ type: "result", ...this.result(ending) });
  }

  /** How long a phase that ran took (ok or failed); undefined if it did not run. */
  phaseMs(phase: Phase): number | undefined {
    const end = this.phases.get(phase);
    return end && end.status !== "skipped" ? end.durationMs : undefined;
  }

  /**
   * The builder phase without the compiling: creating, starting and stopping containers. Components
   * compile side by side, so the compiling is the time some component compiled (the union of their
   * start-to-end spans), not the sum of their durations.
   */
  builderOverheadMs(): number | undefined {
    const builder = this.phaseMs("builder");
    if (builder === undefined) return undefined;
    const built = [...this.components.values()].filter((c) => c.outcome === "built");
    const spans = built.flatMap((c) => (c.startedAt && c.endedAt ? [[Date.parse(c.startedAt), Date.parse(c.endedAt)] as const] : []));
    let compiling = built.filter((c) => !(c.startedAt && c.endedAt)).reduce((sum, c) => sum + (c.durationMs ?? 0), 0);
    let coveredTo = Number.NEGATIVE_INFINITY;
    for (const [start, end] of spans.sort((a, b) => a[0] - b[0])) {
      if (end <= coveredTo) continue;
      compiling += end - Math.max(start, coveredTo);
      coveredTo = end;
    }
    return Math.max(0, Math.round(builder - compiling));
  }

  result(ending: RunEnding): RunResult {
    const components = [...this.components.values()];
    const hits = components.filter((c) => c.outcome === "restored").length;
    const misses = this.strategy === "compose" ? 0 : components.filter((c) => ["built", "failed", "interrupted", "not-run"].includes(c.outcome)).length;
    const savedMs =
      components.reduce((sum, c) => sum + (c.outcome === "restored" ? (c.savedMs ?? 0) : 0), 0) + this.skipped.reduce((sum, p) => sum + (p.savedMs ?? 0), 0);
    return {
      ...ending,
      durationMs: Math.round(performance.now() - this.started),
      components,
      hits,
      misses,
      hitRatio: hits + misses ? hits / (hits + misses) : null,
      savedMs,
      skippedPhases: this.skipped,
      ...(this.logDir ? { logDir: this.logDir } : {}),
    };
  }

  private observe(event: BuildEvent): void {
    switch (event.type) {
      case "run-start":
        this.strategy = event.strategy;
        break;
      case "plan":
        for (const c of event.components) {
          const known = this.components.get(c.name);
          this.components.set(c.name, {
            name: c.name,
            kind: c.kind,
            ...known,
            outcome: known?.outcome ?? (c.action === "skip" ? "skipped" : "not-run"),
            ...(c.action === "skip" && c.reason ? { reason: c.reason } : {}),
          });
        }
        break;
      case "phase-end":
        this.phases.set(event.phase, event);
        if (event.status === "skipped") {
          this.skipped.push({
            phase: event.phase,
            ...(event.detail ? { reason: event.detail } : {}),
            savedMs: event.savedMs,
          });
        }
        break;
      case "component-cached":
        this.update(event.name, {
          outcome: "restored",
          source: event.source,
          durationMs: event.restoreMs,
          savedMs: event.savedMs,
        });
        break;
      case "component-start": {
        // Where and when it compiles; a retry on another engine replaces the earlier attempt's.
        const { endedAt: _endedAt, ...known } = this.components.get(event.name) ?? { name: event.name, kind: "unknown", outcome: "not-run" };
        this.components.set(event.name, {
          ...known,
          engine: event.engine,
          builder: event.builder,
          startedAt: new Date().toISOString(),
        });
        break;
      }
      case "component-end": {
        const done = this.strategy === "compose" ? "copied" : "built";
        const outcome = event.status === "failed" || event.status === "interrupted" ? event.status : done;
        this.update(event.name, {
          outcome,
          durationMs: event.durationMs,
          endedAt: new Date().toISOString(),
          ...(event.logPath ? { logPath: event.logPath } : {}),
        });
        break;
      }
      default:
        break;
    }
  }

  private update(name: string, change: Partial<ComponentResult>): void {
    const known = this.components.get(name) ?? { name, kind: "unknown", outcome: "not-run" };
    const { reason: _reason, ...rest } = known;
    this.components.set(name, { ...rest, ...change });
  }
}

const DURATION_FIELDS = ["durationMs", "restoreMs", "savedMs"] as const;

/** Durations as whole milliseconds: `performance.now()` differences are fractions. */
function withIntegerDurations(event: BuildEvent): BuildEvent {
  let copy: Record<string, unknown> | undefined;
  for (const field of DURATION_FIELDS) {
    const value = (event as Record<string, unknown>)[field];
    if (typeof value === "number" && !Number.isInteger(value)) {
      copy ??= { ...event };
      copy[field] = Math.round(value);
    }
  }
  return (copy ?? event) as BuildEvent;
}
