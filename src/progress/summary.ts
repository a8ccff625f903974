import { PHASE_TITLES, type ComponentResult, type RunResult } from "../run/events.js";
import { formatBytes, formatDuration } from "./format.js";
import { cutToWidth, NO_COLOURS, type Palette } from "./terminal-text.js";

/**
 * The closing summary of a run, the same on a terminal and in a log: the image, the time it took
 * and saved, what each component did, what the cache gave, the phases that were not needed, and
 * where the logs are. `--json` has the same fields in its `result` event. On a terminal, rows
 * are cut to its width, except the two a user copies (the image and the log dir).
 */
export function formatSummary(result: RunResult, c: Palette = NO_COLOURS, width = Number.POSITIVE_INFINITY): string[] {
  const rows: Array<[string, string]> = [];
  if (result.status === "ok" && result.image) {
    const id = result.image.id.replace(/^sha256:/, "").slice(0, 12);
    const details = [id, result.image.sizeBytes !== undefined ? formatBytes(result.image.sizeBytes) : undefined].filter(Boolean).join(", ");
    rows.push(["Image", `${c.bold(result.image.tag)}  ${c.dim(details)}`]);
  } else {
    const what = result.status === "interrupted" ? c.yellow("interrupted") : c.red("failed");
    rows.push(["Result", `${what}${result.failedComponent ? ` in ${result.failedComponent}` : ""}`]);
  }
  rows.push(["Time", result.savedMs ? `${formatDuration(result.durationMs)}, ${formatDuration(result.savedMs)} saved` : formatDuration(result.durationMs)]);
  if (result.hitRatio !== null) {
    rows.push(["Cache", `${result.hits} of ${result.hits + result.misses} component(s) restored, ${Math.round(result.hitRatio * 100)}% hit ratio`]);
  }
  for (const [i, row] of componentRows(result.components, c).entries()) rows.push([i === 0 ? "Components" : "", row]);
  for (const [i, p] of result.skippedPhases.entries()) {
    rows.push([i === 0 ? "Not needed" : "", c.dim(`${PHASE_TITLES[p.phase]}${p.savedMs ? `, about ${formatDuration(p.savedMs)} saved` : ""}`)]);
  }
  const labels = Math.max(...rows.map(([label]) => label.length), "Logs".length);
  const lines = rows.map(([label, text]) => {
    const line = `${label.padEnd(labels)}  ${text}`;
    return label === "Image" ? line : cutToWidth(line, width);
  });
  if (result.logDir) lines.push(`${"Logs".padEnd(labels)}  ${result.logDir}`);
  return lines;
}

const OUTCOME_WORDS: Record<ComponentResult["outcome"], string> = {
  built: "built",
  copied: "copied",
  restored: "restored",
  failed: "failed",
  interrupted: "interrupted",
  "not-run": "not run",
  skipped: "skipped",
};

/** One row per component: name, what happened, from where, how long, what it saved. */
function componentRows(components: ComponentResult[], c: Palette): string[] {
  const cells = components.map((component) => {
    const from = component.outcome === "restored" && component.source ? `${component.source} cache` : "";
    const time = component.durationMs !== undefined ? formatDuration(component.durationMs) : "";
    const saved = component.savedMs ? `saved ${formatDuration(component.savedMs)}` : "";
    return [component.name, OUTCOME_WORDS[component.outcome], from, time, saved];
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row, index) => {
    const component = components[index];
    const outcome = component?.outcome;
    // What did not run says why, right after the outcome.
    const columns = component?.reason && (outcome === "skipped" || outcome === "not-run") ? [row[0] ?? "", row[1] ?? "", component.reason] : row;
    const text = columns
      .map((cell, i) => (i < columns.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join("  ")
      .trimEnd();
    if (outcome === "failed") return c.red(text);
    if (outcome === "skipped" || outcome === "not-run") return c.dim(text);
    return text;
  });
}
