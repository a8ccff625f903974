import { PHASE_TITLES, type BuildEvent, type Phase } from "../run/events.js";
import { stripVTControlCharacters as stripAnsi } from "node:util";
import { formatDuration } from "./format.js";
import { componentRow, finishedPhaseRow, outputRow, runningPhaseRow, type ComponentState, type RunningPhase } from "./live-rows.js";
import { cutToWidth, type Palette, withoutControls } from "./terminal-text.js";

/** Where the view draws: a terminal's size, and its two streams. */
export interface Screen {
  columns(): number;
  rows(): number;
  out(text: string): void;
  err(text: string): void;
}

const FRAME_MS = 100;

/**
 * The terminal view of a run. What has ended is written once, in the order it happened, and stays:
 * finished phases (a skipped one as one dim row), their components, warnings and notes. Below it,
 * the live part is redrawn in place: the running phase with its timer, the components it compiles
 * (a spinner only on the running ones), and the latest output line, each cut to the terminal's
 * width so that one row stays one row and a redraw leaves nothing stale behind.
 */
export class LiveView {
  private readonly titles = new Map<Phase, string>();
  private running: RunningPhase | undefined;
  private components: ComponentState[] = [];
  /** Planned to compile or restore: the rows of the builder phase. */
  private planned: string[] = [];
  private restored = new Set<string>();
  private drawnRows = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly screen: Screen,
    private readonly c: Palette,
    titles: Record<Phase, string> = PHASE_TITLES,
    private readonly now: () => number = Date.now,
  ) {
    for (const [phase, title] of Object.entries(titles)) this.titles.set(phase as Phase, title);
  }

  readonly onEvent = (event: BuildEvent): void => {
    if (this.ended) return;
    switch (event.type) {
      case "plan":
        this.planned = event.components.filter((c) => c.action !== "skip").map((c) => c.name);
        break;
      case "phase-start":
        this.titles.set(event.phase, event.title);
        this.running = { phase: event.phase, title: event.title, startedAt: this.now() };
        this.components = [];
        if (event.phase === "builder") this.components = this.planned.filter((n) => !this.restored.has(n)).map((name) => ({ name, state: "waiting" }));
        this.start();
        break;
      case "phase-output":
        if (this.running?.phase === event.phase) {
          this.running.line = stripAnsi(event.line);
          if (event.step) this.running.step = event.step;
        }
        break;
      case "phase-end":
        this.endPhase(event.phase, finishedPhaseRow(this.title(event.phase), event.status, event.durationMs, this.phaseDetail(event), this.c));
        break;
      case "component-start":
        this.setComponent({
          name: event.name,
          state: "building",
          startedAt: this.now(),
          ...(event.engine !== undefined ? { where: `${event.engine}/${event.builder ?? 1}` } : {}),
        });
        break;
      case "component-output": {
        const component = this.components.find((c) => c.name === event.name);
        if (component?.state === "building") {
          component.line = stripAnsi(event.line);
          if (event.percent !== undefined) component.percent = event.percent;
        }
        break;
      }
      case "component-end":
        if (event.status === "failed" || event.status === "interrupted") {
          this.setComponent({ name: event.name, state: event.status, durationMs: event.durationMs, ...(event.logPath ? { logPath: event.logPath } : {}) });
        } else {
          const running = this.components.find((c) => c.name === event.name);
          const where = running?.state === "building" ? running.where : undefined;
          this.setComponent({ name: event.name, state: "done", durationMs: event.durationMs, ...(where ? { where } : {}) });
        }
        break;
      case "component-cached":
        this.restored.add(event.name);
        this.setComponent({
          name: event.name,
          state: "restored",
          source: event.source,
          restoreMs: event.restoreMs,
          savedMs: event.savedMs,
        });
        break;
      case "warning":
        this.print([this.c.yellow(`warning: ${stripAnsi(event.message)}`)], "err", "whole");
        break;
      case "info":
        this.print([this.c.dim(stripAnsi(event.message))], "err", "whole");
        break;
      default:
        break;
    }
  };

  /** A line from outside the run (the session's Ctrl-C notice), above the live part, at once. */
  notice(text: string): void {
    if (this.ended) this.screen.err(`${text}\n`);
    else this.print([text], "err", "whole");
  }

  /** The run is over: what was still running is written as it stands, without a spinner. */
  end(): void {
    if (this.ended) return;
    if (this.running)
      this.endPhase(this.running.phase, finishedPhaseRow(this.running.title, "interrupted", this.now() - this.running.startedAt, undefined, this.c));
    this.stop();
    this.clear();
    this.ended = true;
  }

  private title(phase: Phase): string {
    return this.titles.get(phase) ?? PHASE_TITLES[phase];
  }

  private phaseDetail(event: Extract<BuildEvent, { type: "phase-end" }>): string | undefined {
    if (event.status !== "ok") return event.detail;
    const restored = this.components.filter((c) => c.state === "restored");
    if (event.phase !== "restore" || !restored.length) return undefined;
    const saved = restored.reduce((sum, c) => sum + (c.state === "restored" ? (c.savedMs ?? 0) : 0), 0);
    return `${restored.length} restored${saved ? `, ${formatDuration(saved)} of build time saved` : ""}`;
  }

  private setComponent(state: ComponentState): void {
    const index = this.components.findIndex((c) => c.name === state.name);
    if (index >= 0) this.components[index] = state;
    else this.components.push(state);
    this.draw();
  }

  /** The phase's row and its components' rows are written for good; the live part starts over. */
  private endPhase(phase: Phase, row: string): void {
    const rows = [row];
    if (this.running?.phase === phase) {
      const unfinished = (c: ComponentState): ComponentState =>
        c.state === "waiting" || c.state === "building"
          ? { name: c.name, state: c.state === "building" ? "interrupted" : "not-run", durationMs: c.state === "building" ? this.now() - c.startedAt : 0 }
          : c;
      rows.push(...this.components.map((c) => componentRow(unfinished(c), this.now(), 0, this.c)));
      this.running = undefined;
      this.components = [];
      this.stop();
    }
    this.print(rows, "out");
  }

  private start(): void {
    this.draw();
    this.timer ??= setInterval(() => {
      this.frame++;
      this.draw();
    }, FRAME_MS);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Lines that stay: the live part is cleared, they are written, the live part comes back below.
   * Rows (a phase, a component) are cut to the width like the live rows they replace; a message
   * (a warning, a note, the Ctrl-C notice) is written whole and may wrap: its end is often the fix.
   */
  private print(lines: string[], stream: "out" | "err", fit: "cut" | "whole" = "cut"): void {
    this.clear();
    const width = this.screen.columns() - 1;
    const text = `${lines.map((line) => (fit === "cut" ? cutToWidth(line, width) : withoutControls(line))).join("\n")}\n`;
    if (stream === "out") this.screen.out(text);
    else this.screen.err(text);
    this.draw();
  }

  private clear(): void {
    // To the first column of the live part's first row, then erase to the end of the screen.
    if (this.drawnRows > 0) this.screen.out(`\u001b[${this.drawnRows}F\u001b[J`);
    this.drawnRows = 0;
  }

  private draw(): void {
    if (this.ended) return;
    const lines = this.liveLines();
    const width = this.screen.columns() - 1;
    const text = lines.map((line) => `${cutToWidth(line, width)}\n`).join("");
    const erase = this.drawnRows > 0 ? `\u001b[${this.drawnRows}F\u001b[J` : "";
    // One write per frame: the terminal never shows half a redraw.
    if (erase || text) this.screen.out(erase + text);
    this.drawnRows = lines.length;
  }

  /** The live part, never taller than the screen (a row scrolled off could not be redrawn). */
  private liveLines(): string[] {
    const running = this.running;
    if (!running) return [];
    const now = this.now();
    const rows: Array<{ text: string; kind: "finished" | "building" | "waiting" }> = [];
    for (const component of this.components) {
      const kind = component.state === "waiting" ? "waiting" : component.state === "building" ? "building" : "finished";
      rows.push({ text: componentRow(component, now, this.frame, this.c), kind });
      if (component.state === "building" && component.line) rows.push({ text: outputRow(component.line, 2, this.c), kind });
    }
    if (!this.components.some((c) => c.state === "building") && running.line) rows.push({ text: outputRow(running.line, 1, this.c), kind: "building" });
    const room = Math.max(1, this.screen.rows() - 2) - 1;
    // Finished components give way first (they are written for good when the phase ends), then
    // waiting ones are counted instead of listed.
    for (let i = rows.findIndex((r) => r.kind === "finished"); rows.length > room && i >= 0; i = rows.findIndex((r) => r.kind === "finished"))
      rows.splice(i, 1);
    const waiting = rows.filter((r) => r.kind === "waiting");
    if (rows.length > room && waiting.length > 1) {
      const keep = Math.max(0, waiting.length - (rows.length - room) - 1);
      const shown = new Set(waiting.slice(0, keep));
      const rest = rows.filter((r) => r.kind !== "waiting" || shown.has(r));
      rest.push({ text: this.c.dim(`    · ${waiting.length - keep} more waiting`), kind: "waiting" });
      rows.splice(0, rows.length, ...rest);
    }
    return [runningPhaseRow(running, now, this.frame, this.c), ...rows.slice(0, room).map((r) => r.text)];
  }
}
