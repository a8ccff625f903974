import type { BuildEvent } from "../run/events.js";
import { writeJsonAtomically } from "../util/json-file.js";

/**
 * `--trace FILE`: the run's timeline in Chrome's trace event format (opens in Perfetto or
 * chrome://tracing). The run's phases and cache restores are one process ("run"); each engine is
 * a process with one thread per builder, and each component compiled there is a complete ("X")
 * event on its builder's lane, from its begin marker to its end.
 */

/** One event of the trace event format (only the fields used here). */
export interface TraceEvent {
  name: string;
  ph: "X" | "M" | "i";
  /** Microseconds since the run started. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  s?: "g" | "p" | "t";
  args?: Record<string, unknown>;
}

const RUN_PID = 1;
const PHASES_TID = 1;
const CACHE_TID = 2;

export class TraceCollector {
  private readonly origin: number;
  private readonly events: TraceEvent[] = [];
  private readonly openPhases = new Map<string, number>();
  private readonly openComponents = new Map<string, { ts: number; pid: number; tid: number }>();
  private readonly engines = new Map<string, number>();
  private readonly builders = new Set<string>();
  private runId: string | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.origin = now();
    this.metadata(RUN_PID, 0, "process_name", "run");
    this.metadata(RUN_PID, PHASES_TID, "thread_name", "phases");
    this.metadata(RUN_PID, CACHE_TID, "thread_name", "cache restores");
  }

  private micros(): number {
    return Math.round((this.now() - this.origin) * 1000);
  }

  private metadata(pid: number, tid: number, kind: "process_name" | "thread_name", name: string): void {
    this.events.push({ name: kind, ph: "M", ts: 0, pid, tid, args: { name } });
  }

  /** The lane of an engine's builder, named when first seen. */
  private lane(engine: string, builder: number): { pid: number; tid: number } {
    let pid = this.engines.get(engine);
    if (pid === undefined) {
      pid = RUN_PID + 1 + this.engines.size;
      this.engines.set(engine, pid);
      this.metadata(pid, 0, "process_name", `engine ${engine}`);
    }
    if (!this.builders.has(`${pid}/${builder}`)) {
      this.builders.add(`${pid}/${builder}`);
      this.metadata(pid, builder, "thread_name", `builder ${builder}`);
    }
    return { pid, tid: builder };
  }

  readonly listener = (event: BuildEvent): void => {
    const ts = this.micros();
    switch (event.type) {
      case "run-start":
        this.runId = event.runId;
        break;
      case "phase-start":
        this.openPhases.set(event.phase, ts);
        break;
      case "phase-end": {
        const start = this.openPhases.get(event.phase) ?? ts;
        this.openPhases.delete(event.phase);
        if (event.status === "skipped") break;
        this.events.push({
          name: event.phase,
          cat: "phase",
          ph: "X",
          ts: start,
          dur: ts - start,
          pid: RUN_PID,
          tid: PHASES_TID,
          args: { status: event.status },
        });
        break;
      }
      case "component-start":
        this.openComponents.set(event.name, { ts, ...this.lane(event.engine ?? "default", event.builder ?? 1) });
        break;
      case "component-end": {
        const open = this.openComponents.get(event.name);
        if (!open) break;
        this.openComponents.delete(event.name);
        this.events.push({
          name: event.name,
          cat: "component",
          ph: "X",
          ts: open.ts,
          dur: ts - open.ts,
          pid: open.pid,
          tid: open.tid,
          args: { status: event.status, ...(event.logPath ? { log: event.logPath } : {}), ...(event.detail ? { detail: event.detail } : {}) },
        });
        break;
      }
      case "component-cached": {
        const dur = Math.round(event.restoreMs * 1000);
        this.events.push({
          name: event.name,
          cat: "restore",
          ph: "X",
          ts: Math.max(0, ts - dur),
          dur,
          pid: RUN_PID,
          tid: CACHE_TID,
          args: { source: event.source, savedMs: event.savedMs },
        });
        break;
      }
      case "warning":
        this.events.push({ name: "warning", cat: "warning", ph: "i", s: "g", ts, pid: RUN_PID, tid: PHASES_TID, args: { message: event.message } });
        break;
      case "result":
        this.events.push({
          name: `result: ${event.status}`,
          cat: "result",
          ph: "i",
          s: "g",
          ts,
          pid: RUN_PID,
          tid: PHASES_TID,
          args: { status: event.status },
        });
        break;
      default:
        break;
    }
  };

  trace(): { traceEvents: TraceEvent[]; displayTimeUnit: "ms"; otherData: Record<string, string> } {
    return { traceEvents: [...this.events], displayTimeUnit: "ms", otherData: { tool: "triton-build", ...(this.runId ? { runId: this.runId } : {}) } };
  }

  /** Written under a temporary name and renamed, so a reader never sees half a trace. */
  write(file: string): Promise<void> {
    return writeJsonAtomically(file, this.trace());
  }
}
