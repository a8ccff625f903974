import { z } from "zod";
import { PHASES, type BuildEvent } from "../run/events.js";

/**
 * The machine-readable contract: one `--json` line (an event) and the `--report` file, as zod
 * schemas. `npm run schema` writes them as JSON Schema to schema/, which the package ships; a
 * unit test fails when those files differ from these schemas, and the type checks at the end of
 * this file fail when the events of run/events.ts and these schemas disagree.
 *
 * The schemas are strict (no field they do not name), so the tests catch an undocumented field;
 * readers should ignore fields they do not know. Raise SCHEMA_VERSION when a field is removed or
 * changes meaning; adding a field does not.
 */
export const SCHEMA_VERSION = 1;

const ms = z.number().int().nonnegative().describe("milliseconds");
const phase = z.enum(PHASES);
const status = z.enum(["ok", "failed", "skipped", "cached", "interrupted"]);
const cacheSource = z.enum(["local", "remote"]);
const source = z.object({ url: z.string(), ref: z.string(), commit: z.string() });

const componentSummary = z.object({
  name: z.string(),
  kind: z.string(),
  tag: z.string().exactOptional(),
  action: z.enum(["build", "cached", "skip"]).describe("build: to compile; cached: a local cache hit, to restore; skip: not part of this run"),
  reason: z.string().exactOptional(),
});

const sourceImage = z.object({
  key: z.string().describe("published image name in the release data: py3, trtllm, ..."),
  image: z.string(),
  id: z.string(),
  container: z.string().exactOptional(),
  triton: z.string().exactOptional(),
});

const unresolvedLibrary = z.object({
  component: z.string(),
  kind: z.string(),
  library: z.string(),
  missing: z.array(z.string()),
  main: z.boolean().describe("the component's main library: Triton cannot load the component"),
});

const componentResult = z.object({
  name: z.string(),
  kind: z.string(),
  outcome: z.enum(["built", "copied", "restored", "failed", "interrupted", "not-run", "skipped"]),
  source: cacheSource.exactOptional().describe("restored: which cache"),
  durationMs: ms.exactOptional().describe("built: compile time; restored: restore time"),
  savedMs: ms.exactOptional().describe("restored: the build time the cache recorded for it"),
  logPath: z.string().exactOptional(),
  reason: z.string().exactOptional(),
});

const image = z.object({ tag: z.string(), id: z.string(), sizeBytes: z.number().int().nonnegative().exactOptional() });

/** The result event's fields; the report and the closing summary show the same. */
const runResultFields = {
  status: z.enum(["ok", "failed", "interrupted"]),
  durationMs: ms,
  image: image.exactOptional(),
  error: z.string().exactOptional(),
  failedComponent: z.string().exactOptional(),
  components: z.array(componentResult),
  hits: z.number().int().nonnegative().describe("components restored from a cache"),
  misses: z.number().int().nonnegative().describe("components that had to be compiled"),
  hitRatio: z.number().min(0).max(1).nullable().describe("hits / (hits + misses); null when nothing was looked up"),
  savedMs: ms.describe("restored components' recorded build times plus the skipped phases' estimates"),
  skippedPhases: z.array(z.object({ phase, reason: z.string().exactOptional(), savedMs: ms.exactOptional() })),
  logDir: z.string().exactOptional(),
};

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  time: z.iso.datetime().describe("when the event happened"),
};

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ ...envelope, type: z.literal(type), ...shape });

export const eventSchema = z
  .discriminatedUnion("type", [
    event("run-start", { runId: z.string(), preset: z.string(), strategy: z.enum(["build", "compose"]), phases: z.array(phase), workDir: z.string() }),
    event("plan", {
      source: source.exactOptional(),
      buildpyCommand: z.string().exactOptional(),
      components: z.array(componentSummary),
      compose: z.object({ dockerfile: z.string(), sources: z.array(sourceImage) }).exactOptional(),
    }),
    event("phase-start", { phase, title: z.string() }),
    event("phase-output", {
      phase,
      line: z.string(),
      step: z.object({ current: z.number().int(), total: z.number().int() }).exactOptional(),
    }),
    event("phase-end", { phase, status, durationMs: ms, detail: z.string().exactOptional(), savedMs: ms.exactOptional() }),
    event("component-start", { name: z.string() }),
    event("component-output", { name: z.string(), line: z.string(), percent: z.number().exactOptional() }),
    event("component-end", { name: z.string(), status, durationMs: ms, logPath: z.string().exactOptional(), detail: z.string().exactOptional() }),
    event("component-cached", { name: z.string(), restoreMs: ms, savedMs: ms.exactOptional(), source: cacheSource }),
    event("libraries-checked", { checked: z.number().int().nonnegative(), unresolved: z.array(unresolvedLibrary) }),
    event("warning", { message: z.string(), component: z.string().exactOptional() }),
    event("info", { message: z.string() }),
    event("result", runResultFields),
  ])
  .meta({ title: "triton-build event", description: "One line of `triton-build --json` (NDJSON): one event of a run, in the order they happen." });

export const reportSchema = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    runId: z.string().exactOptional(),
    preset: z.string().exactOptional(),
    strategy: z.enum(["build", "compose"]).exactOptional(),
    status: z.enum(["ok", "failed", "interrupted", "running"]),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().exactOptional(),
    totalDurationMs: ms.exactOptional(),
    workDir: z.string().exactOptional(),
    logDir: z.string().exactOptional(),
    source: source.exactOptional(),
    buildpyCommand: z.string().exactOptional(),
    image: image.exactOptional(),
    error: z.string().exactOptional(),
    failedComponent: z.string().exactOptional(),
    hits: runResultFields.hits.exactOptional(),
    misses: runResultFields.misses.exactOptional(),
    hitRatio: runResultFields.hitRatio.exactOptional(),
    savedMs: ms.exactOptional(),
    skippedPhases: runResultFields.skippedPhases.exactOptional(),
    phases: z.array(z.object({ phase, status, durationMs: ms, detail: z.string().exactOptional(), savedMs: ms.exactOptional() })),
    components: z.array(
      z.object({
        name: z.string(),
        kind: z.string(),
        tag: z.string().exactOptional(),
        status: z.enum(["built", "cached", "failed", "interrupted", "skipped", "not-run"]),
        durationMs: ms.exactOptional(),
        restoreMs: ms.exactOptional(),
        savedMs: ms.exactOptional(),
        cacheSource: cacheSource.exactOptional(),
        logPath: z.string().exactOptional(),
        reason: z.string().exactOptional(),
      }),
    ),
    warnings: z.array(z.string()),
    compose: z
      .object({
        dockerfile: z.string().exactOptional(),
        sources: z.array(sourceImage).exactOptional(),
        librariesChecked: z.number().int().nonnegative().exactOptional(),
        unresolved: z.array(unresolvedLibrary).exactOptional(),
      })
      .exactOptional()
      .describe("compose only: the Dockerfile, the source images, and what the library check found"),
  })
  .meta({ title: "triton-build report", description: "The JSON summary `triton-build --report FILE` writes for one run." });

export type RunReport = z.infer<typeof reportSchema>;

/** An event as `--json` writes it. */
export type WireEvent = BuildEvent extends infer E ? (E extends BuildEvent ? E & { schemaVersion: typeof SCHEMA_VERSION; time: string } : never) : never;

/** The JSON Schema files the package ships, by file name. */
export function jsonSchemaFiles(): Record<string, unknown> {
  return {
    "events.schema.json": z.toJSONSchema(eventSchema, { target: "draft-2020-12" }),
    "report.schema.json": z.toJSONSchema(reportSchema, { target: "draft-2020-12" }),
  };
}

// The events the code emits and the schema describe exactly the same thing (an optional field
// too), or this does not compile. Both sides are flattened first, so only their shape counts.
type Flat<T> = T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
const eventsMatchSchema: Same<WireEvent, z.infer<typeof eventSchema>> = true;
void eventsMatchSchema;
