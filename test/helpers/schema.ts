// Checks the CLI's machine output against the JSON Schema files the package ships (schema/), with
// a JSON Schema validator of its own (ajv), not with the zod schemas they were generated from.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { PROJECT_ROOT } from "./fixture-repo.js";

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const read = (name: string) => JSON.parse(readFileSync(path.join(PROJECT_ROOT, "schema", name), "utf8")) as Record<string, unknown>;
const eventsSchema = read("events.schema.json");
const validEvent = ajv.compile(eventsSchema);
const validReport = ajv.compile(read("report.schema.json"));
// For messages only: the oneOf branch of the event's own type says what is wrong with it.
const branches = new Map(
  (eventsSchema.oneOf as Array<{ properties: { type: { const: string } } }>).map((branch) => [
    branch.properties.type.const,
    ajv.compile({ $schema: eventsSchema.$schema, ...branch } as object),
  ]),
);

/** Throws, naming the line and what is wrong, unless every line of `--json` output is a valid event. */
export function expectValidEvents(stdout: string): void {
  for (const [i, line] of stdout.split("\n").entries()) {
    if (!line.trim()) continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} of the --json output is not JSON: ${line}`);
    }
    if (validEvent(event)) continue;
    const branch = branches.get(String((event as { type?: unknown })?.type));
    if (branch) branch(event);
    const why = branch ? errors(branch.errors) : `unknown type ${JSON.stringify((event as { type?: unknown })?.type)}`;
    throw new Error(`line ${i + 1} of the --json output does not follow schema/events.schema.json: ${why}\n${line}`);
  }
}

/** Throws unless the report follows schema/report.schema.json. */
export function expectValidReport(report: unknown, where = "the report"): void {
  if (!validReport(report)) throw new Error(`${where} does not follow schema/report.schema.json: ${errors(validReport.errors)}`);
}

function errors(list: typeof validEvent.errors): string {
  return (list ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`)
    .join("; ");
}

const OTHER_COMMANDS = new Set(["plan", "presets", "cache", "doctor", "config", "completion", "help"]);

/**
 * Whether these arguments run a build (the default command) whose `--json` output is NDJSON
 * events, and the report file it writes, if any.
 */
export function machineOutputOf(args: readonly string[]): { events: boolean; report?: string } {
  const command = args.find((a) => !a.startsWith("-"));
  const isBuild = !args.includes("--dry-run") && (command === undefined || command === "build" || !OTHER_COMMANDS.has(command));
  const reportAt = args.indexOf("--report");
  const inline = args.find((a) => a.startsWith("--report="));
  const report = reportAt >= 0 ? args[reportAt + 1] : inline?.slice("--report=".length);
  return { events: isBuild && args.includes("--json"), ...(isBuild && report ? { report } : {}) };
}
