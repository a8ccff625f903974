import type { BuildEvent } from "../run/events.js";
import { stripVTControlCharacters } from "node:util";
import { SCHEMA_VERSION, type WireEvent } from "./schema.js";

/**
 * `--json`: one JSON object per line on stdout, each with the schema version it follows
 * (schema/events.schema.json) and its time. Component output lines are
 * included only with --verbose (they are in the per-component logs anyway). Tools' colour codes
 * are removed from output lines and messages: a consumer gets text, not escape sequences.
 */
export function createNdjsonRenderer(write: (line: string) => void, options: { verbose: boolean }): (event: BuildEvent) => void {
  return (event) => {
    if (event.type === "component-output" && !options.verbose) return;
    if (event.type === "phase-output" && !options.verbose && !event.step) return;
    write(JSON.stringify(toWire(event)));
  };
}

/** The one place an event gets its envelope: the schema version and the time. */
export function toWire(event: BuildEvent, now = new Date()): WireEvent {
  return { schemaVersion: SCHEMA_VERSION, time: now.toISOString(), ...event, ...plainText(event) } as WireEvent;
}

function plainText(event: BuildEvent): { line?: string; message?: string } {
  if ("line" in event) return { line: stripVTControlCharacters(event.line) };
  if ("message" in event) return { message: stripVTControlCharacters(event.message) };
  return {};
}
