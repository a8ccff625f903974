import type { Phase, Status } from "../run/events.js";
import { formatDuration } from "./format.js";
import type { Palette } from "./terminal-text.js";

/**
 * The rows of the terminal view, as text: pure functions of what a phase or component is doing,
 * so they can be tested without a terminal. live.ts decides when to draw them.
 */

export const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export type ComponentState =
  | { name: string; state: "waiting" }
  | { name: string; state: "building"; startedAt: number; percent?: number; line?: string }
  | { name: string; state: "done"; durationMs: number }
  | { name: string; state: "failed" | "interrupted"; durationMs: number; logPath?: string }
  | { name: string; state: "restored"; source: "local" | "remote"; restoreMs: number; savedMs?: number }
  | { name: string; state: "not-run" };

export interface RunningPhase {
  phase: Phase;
  title: string;
  startedAt: number;
  step?: { current: number; total: number };
  line?: string;
}

const INDENT = "    ";

/** The row of a phase that is running: a spinner, its title, a timer, docker's step counter. */
export function runningPhaseRow(phase: RunningPhase, now: number, frame: number, c: Palette): string {
  const step = phase.step ? `  ${c.dim(`step ${phase.step.current}/${phase.step.total}`)}` : "";
  return `${c.cyan(SPINNER[frame % SPINNER.length] ?? "-")} ${phase.title}  ${formatDuration(now - phase.startedAt)}${step}`;
}

/** The row a phase leaves when it ends. A skipped phase is one dim row with the reason. */
export function finishedPhaseRow(title: string, status: Status, durationMs: number, detail: string | undefined, c: Palette): string {
  switch (status) {
    case "skipped":
      return c.dim(`- ${title}: skipped${detail ? ` (${detail})` : ""}`);
    case "failed":
      return `${c.red("✖")} ${title}  ${c.red(`failed after ${formatDuration(durationMs)}`)}${detail ? `: ${detail}` : ""}`;
    case "interrupted":
      return `${c.yellow("■")} ${title}  interrupted after ${formatDuration(durationMs)}`;
    default:
      return `${c.green("✔")} ${title}  ${c.dim(formatDuration(durationMs))}${detail ? `  ${c.dim(detail)}` : ""}`;
  }
}

/** One component under its phase; a component that waits has no spinner. */
export function componentRow(component: ComponentState, now: number, frame: number, c: Palette): string {
  const name = component.name;
  switch (component.state) {
    case "waiting":
      return c.dim(`${INDENT}· ${name}  waiting`);
    case "building": {
      const percent = component.percent !== undefined ? `  ${c.dim(`[${component.percent}%]`)}` : "";
      return `${INDENT}${c.cyan(SPINNER[frame % SPINNER.length] ?? "-")} ${name}  ${formatDuration(now - component.startedAt)}${percent}`;
    }
    case "done":
      return `${INDENT}${c.green("✔")} ${name}  ${c.dim(formatDuration(component.durationMs))}`;
    case "failed":
      return `${INDENT}${c.red("✖")} ${name}  ${c.red(`failed after ${formatDuration(component.durationMs)}`)}${component.logPath ? c.dim(`  log: ${component.logPath}`) : ""}`;
    case "interrupted":
      return `${INDENT}${c.yellow("■")} ${name}  interrupted after ${formatDuration(component.durationMs)}`;
    case "restored": {
      const saves = component.savedMs ? `, saves ${formatDuration(component.savedMs)}` : "";
      return `${INDENT}${c.green("↺")} ${name}  ${c.dim(`from the ${component.source} cache in ${formatDuration(component.restoreMs)}${saves}`)}`;
    }
    case "not-run":
      return c.dim(`${INDENT}· ${name}  not run`);
  }
}

/** The latest output line under what produced it, without the step counter shown on the row. */
export function outputRow(line: string, depth: number, c: Palette): string {
  const text = line
    .replace(/^Step \d+\/\d+ : /, "")
    .replace(/^#\d+ \[[^\]]*?\d+\/\d+\] /, "")
    .trim();
  return c.dim(`${INDENT.repeat(depth)}  ${text}`);
}
