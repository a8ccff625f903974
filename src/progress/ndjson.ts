import type { BuildEvent } from "../build/events.js";

/**
 * `--json`: one JSON object per line on stdout, each with its time. Component output lines are
 * included only with --verbose (they are in the per-component logs anyway).
 */
export function createNdjsonRenderer(write: (line: string) => void, options: { verbose: boolean }): (event: BuildEvent) => void {
  return (event) => {
    if (event.type === "component-output" && !options.verbose) return;
    if (event.type === "phase-output" && !options.verbose && !event.step) return;
    write(JSON.stringify({ time: new Date().toISOString(), ...event }));
  };
}
