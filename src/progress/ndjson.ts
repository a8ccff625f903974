import type { BuildEvent } from "../run/events.js";
import { stripVTControlCharacters } from "node:util";

/**
 * `--json`: one JSON object per line on stdout, each with its time. Component output lines are
 * included only with --verbose (they are in the per-component logs anyway). Tools' colour codes
 * are removed from output lines and messages: a consumer gets text, not escape sequences.
 */
export function createNdjsonRenderer(write: (line: string) => void, options: { verbose: boolean }): (event: BuildEvent) => void {
  return (event) => {
    if (event.type === "component-output" && !options.verbose) return;
    if (event.type === "phase-output" && !options.verbose && !event.step) return;
    write(JSON.stringify({ time: new Date().toISOString(), ...event, ...plainText(event) }));
  };
}

function plainText(event: BuildEvent): { line?: string; message?: string } {
  if ("line" in event) return { line: stripVTControlCharacters(event.line) };
  if ("message" in event) return { message: stripVTControlCharacters(event.message) };
  return {};
}
