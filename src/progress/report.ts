import type { BuildEvent } from "../run/events.js";
import { writeJsonAtomically } from "../util/json-file.js";
import { SCHEMA_VERSION, type RunReport } from "./schema.js";

export type { RunReport };

/** `--report FILE`: a JSON summary of one run, assembled from its events (schema.ts describes it). */
export class ReportCollector {
  readonly report: RunReport = {
    schemaVersion: SCHEMA_VERSION,
    status: "running",
    startedAt: new Date().toISOString(),
    phases: [],
    components: [],
    warnings: [],
  };

  readonly listener = (event: BuildEvent): void => {
    const r = this.report;
    switch (event.type) {
      case "run-start":
        Object.assign(r, { runId: event.runId, preset: event.preset, strategy: event.strategy, workDir: event.workDir });
        break;
      case "plan":
        if (event.source) r.source = event.source;
        if (event.compose) r.compose = { ...r.compose, dockerfile: event.compose.dockerfile, sources: event.compose.sources };
        if (event.buildpyCommand) r.buildpyCommand = event.buildpyCommand;
        r.components = event.components.map((c) => {
          const known = r.components.find((k) => k.name === c.name);
          return {
            ...known,
            name: c.name,
            kind: c.kind,
            ...(c.tag ? { tag: c.tag } : {}),
            status: known?.status ?? (c.action === "skip" ? "skipped" : "not-run"),
            ...(c.reason ? { reason: c.reason } : {}),
          };
        });
        break;
      case "phase-end":
        r.phases.push({
          phase: event.phase,
          status: event.status,
          durationMs: Math.round(event.durationMs),
          ...(event.detail ? { detail: event.detail } : {}),
          ...(event.savedMs !== undefined ? { savedMs: Math.round(event.savedMs) } : {}),
        });
        break;
      case "component-start": {
        const component = this.component(event.name);
        if (event.engine !== undefined) component.engine = event.engine;
        if (event.builder !== undefined) component.builder = event.builder;
        component.startedAt = new Date().toISOString();
        delete component.endedAt;
        break;
      }
      case "component-end": {
        const component = this.component(event.name);
        component.endedAt = new Date().toISOString();
        component.status = event.status === "failed" || event.status === "interrupted" ? event.status : "built";
        component.durationMs = Math.round(event.durationMs);
        if (event.logPath) component.logPath = event.logPath;
        break;
      }
      case "component-cached": {
        const component = this.component(event.name);
        component.status = "cached";
        component.restoreMs = Math.round(event.restoreMs);
        component.cacheSource = event.source;
        if (event.savedMs !== undefined) component.savedMs = Math.round(event.savedMs);
        break;
      }
      case "libraries-checked":
        r.compose = { ...r.compose, librariesChecked: event.checked, unresolved: event.unresolved };
        break;
      case "warning":
        r.warnings.push(event.message);
        break;
      case "result":
        r.status = event.status;
        r.finishedAt = new Date().toISOString();
        r.totalDurationMs = Math.round(event.durationMs);
        if (event.image) r.image = event.image;
        if (event.error) r.error = event.error;
        if (event.failedComponent) r.failedComponent = event.failedComponent;
        Object.assign(r, {
          hits: event.hits,
          misses: event.misses,
          hitRatio: event.hitRatio,
          savedMs: event.savedMs,
          skippedPhases: event.skippedPhases,
          ...(event.logDir ? { logDir: event.logDir } : {}),
        });
        break;
      default:
        break;
    }
  };

  private component(name: string) {
    let component = this.report.components.find((c) => c.name === name);
    if (!component) {
      component = { name, kind: "unknown", status: "not-run" };
      this.report.components.push(component);
    }
    return component;
  }

  /** Written under a temporary name and renamed, so a reader never sees half a report. */
  write(file: string): Promise<void> {
    return writeJsonAtomically(file, this.report, 2);
  }
}
