import { PHASE_TITLES, type BuildEvent, type Phase } from "../run/events.js";
import { stripVTControlCharacters } from "node:util";
import { clock, formatDuration } from "./format.js";

/**
 * Output for logs and CI (no terminal): one timestamped line per event that matters, no ANSI
 * codes, no cursor movement. Component output lines appear only with --verbose; without it, a
 * component reports its cmake percentage at most every 10 points.
 */
export function createPlainRenderer(write: (line: string) => void, options: { verbose: boolean }): (event: BuildEvent) => void {
  const lastPercent = new Map<string, number>();
  const lastStep = new Map<string, number>();
  let sourceShown = false;
  // Titles as the run gave them at each phase's start (a strategy may title a phase its own way).
  const titles = new Map<Phase, string>();
  const title = (phase: Phase) => titles.get(phase) ?? PHASE_TITLES[phase];
  const line = (text: string) => write(`[${clock()}] ${stripVTControlCharacters(text)}`);
  return (event) => {
    switch (event.type) {
      case "run-start":
        line(`run ${event.runId}: preset ${event.preset}, strategy ${event.strategy}, work dir ${event.workDir}`);
        break;
      case "plan": {
        if (event.source && !sourceShown) line(`source ${event.source.url} ${event.source.ref} at ${event.source.commit}`);
        for (const [i, s] of (event.compose?.sources ?? []).entries()) {
          const release = [s.container, s.triton ? `Triton ${s.triton}` : undefined].filter(Boolean).join(", ") || "release unknown";
          line(`${i === 0 ? "base  " : "from  "} ${s.image} (${s.id.replace(/^sha256:/, "").slice(0, 12)}, ${release})`);
        }
        if (event.compose) line(`Dockerfile ${event.compose.dockerfile}`);
        const summary = event.components.map((c) => `${c.name}=${c.action}`).join(" ");
        line(`components: ${summary}`);
        break;
      }
      case "phase-start":
        titles.set(event.phase, event.title);
        line(`start  ${event.title}`);
        break;
      case "phase-output":
        if (event.step) {
          // docker's classic builder already says "Step 3/13 : ..."; BuildKit's lines do not
          const step = /^step \d+\/\d+\b/i.test(event.line) ? "" : `step ${event.step.current}/${event.step.total} `;
          if (lastStep.get(event.phase) !== event.step.current) line(`       ${title(event.phase)}: ${step}${truncate(event.line)}`);
          lastStep.set(event.phase, event.step.current);
        } else if (options.verbose || event.phase === "tag" || event.phase === "source") {
          if (event.phase === "source") sourceShown = true;
          line(`       ${truncate(event.line)}`);
        }
        break;
      case "phase-end":
        if (event.status === "skipped") line(`skip   ${title(event.phase)}${event.detail ? ` (${event.detail})` : ""}`);
        else if (event.status === "failed") line(`FAILED ${title(event.phase)} after ${formatDuration(event.durationMs)}`);
        else if (event.status === "interrupted") line(`stop   ${title(event.phase)} interrupted after ${formatDuration(event.durationMs)}`);
        else line(`done   ${title(event.phase)} in ${formatDuration(event.durationMs)}`);
        break;
      case "component-start":
        line(`build  ${event.name}`);
        break;
      case "component-output":
        if (options.verbose) line(`  [${event.name}] ${event.line}`);
        else if (event.percent !== undefined && event.percent >= (lastPercent.get(event.name) ?? -10) + 10) {
          lastPercent.set(event.name, event.percent);
          line(`       ${event.name} ${event.percent}%`);
        }
        break;
      case "component-end":
        if (event.status === "failed") line(`FAILED ${event.name} after ${formatDuration(event.durationMs)}${event.logPath ? ` (log: ${event.logPath})` : ""}`);
        else if (event.status === "interrupted") line(`stop   ${event.name} interrupted after ${formatDuration(event.durationMs)}`);
        else line(`done   ${event.name} in ${formatDuration(event.durationMs)}`);
        break;
      case "component-cached":
        line(
          `cached ${event.name} (${event.source}, restored in ${formatDuration(event.restoreMs)}${event.savedMs ? `, saved ${formatDuration(event.savedMs)} of build time` : ""})`,
        );
        break;
      case "libraries-checked":
        line(`ldd checked ${event.checked} copied libraries: ${event.unresolved.length} with unresolved dependencies`);
        break;
      case "warning":
        line(`warning: ${event.message}`);
        break;
      case "info":
        line(event.message);
        break;
      case "result":
        // The closing summary (summary.ts) follows, when not --json.
        line(`${event.status === "ok" ? "finished" : event.status} after ${formatDuration(event.durationMs)}`);
        break;
    }
  };
}

function truncate(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
