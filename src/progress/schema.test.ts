import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectValidEvents, expectValidReport } from "../../test/helpers/schema.js";
import { PROJECT_ROOT } from "../../test/helpers/fixture-repo.js";
import type { BuildEvent } from "../run/events.js";
import { RunTally } from "../run/tally.js";
import { createNdjsonRenderer } from "./ndjson.js";
import { ReportCollector } from "./report.js";
import { jsonSchemaFiles, SCHEMA_VERSION } from "./schema.js";

describe("the shipped JSON Schema", () => {
  it("schema/ holds exactly what the zod schemas generate (run `npm run schema` after a change)", async () => {
    for (const [name, schema] of Object.entries(jsonSchemaFiles())) {
      const shipped = JSON.parse(await readFile(path.join(PROJECT_ROOT, "schema", name), "utf8"));
      expect(shipped, `schema/${name} is out of date: run npm run schema`).toEqual(JSON.parse(JSON.stringify(schema)));
    }
    const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.files).toContain("schema");
  });

  it("a run's events, as --json writes them, follow it: schema version, integer milliseconds", () => {
    const lines: string[] = [];
    const tally = new RunTally(
      createNdjsonRenderer((l) => lines.push(l), { verbose: true }),
      "/w/logs",
    );
    const run: BuildEvent[] = [
      { type: "run-start", runId: "r", preset: "p", strategy: "build", phases: ["restore", "builder"], workDir: "/w" },
      { type: "plan", components: [{ name: "core", kind: "core", action: "cached" }] },
      { type: "phase-start", phase: "restore", title: "Restore" },
      { type: "component-cached", name: "core", restoreMs: 12.5, savedMs: 2535.0138660000002, source: "local" },
      { type: "phase-end", phase: "restore", status: "ok", durationMs: 20.25 },
      { type: "phase-start", phase: "builder", title: "Compile" },
      { type: "phase-end", phase: "builder", status: "skipped", durationMs: 0, detail: "every component came from the cache", savedMs: 900.4 },
    ];
    run.forEach(tally.emit);
    tally.finish({ status: "ok", image: { tag: "t:1", id: "sha256:abc", sizeBytes: 1234 } });
    expectValidEvents(lines.join("\n"));
    const events = lines.map((l) => JSON.parse(l));
    expect(events.every((e) => e.schemaVersion === SCHEMA_VERSION)).toBe(true);
    expect(events.find((e) => e.type === "component-cached")).toMatchObject({ restoreMs: 13, savedMs: 2535 });
    expect(events.at(-1)).toMatchObject({
      type: "result",
      hits: 1,
      misses: 0,
      hitRatio: 1,
      savedMs: 2535 + 900,
      skippedPhases: [{ phase: "builder", savedMs: 900 }],
      components: [{ name: "core", outcome: "restored", source: "local", durationMs: 13, savedMs: 2535 }],
      logDir: "/w/logs",
    });
  });

  it("rejects what is not in the contract: a fractional duration, an unknown field, a missing version", () => {
    const good = { schemaVersion: 1, time: "2025-01-01T00:00:00.000Z", type: "phase-end", phase: "tag", status: "ok", durationMs: 3 };
    expect(() => expectValidEvents(JSON.stringify(good))).not.toThrow();
    expect(() => expectValidEvents(JSON.stringify({ ...good, durationMs: 2535.01 }))).toThrow(/durationMs/);
    expect(() => expectValidEvents(JSON.stringify({ ...good, surprise: 1 }))).toThrow(/additional/);
    const { schemaVersion: _, ...unversioned } = good;
    expect(() => expectValidEvents(JSON.stringify(unversioned))).toThrow(/schemaVersion/);
  });

  it("a report follows it", () => {
    const collector = new ReportCollector();
    const tally = new RunTally(collector.listener);
    tally.emit({ type: "run-start", runId: "r", preset: "p", strategy: "compose", phases: ["plan"], workDir: "/w" });
    tally.finish({ status: "failed", error: "no daemon" });
    expect(collector.report.schemaVersion).toBe(SCHEMA_VERSION);
    expectValidReport(JSON.parse(JSON.stringify(collector.report)));
    expect(() => expectValidReport({ ...collector.report, totalDurationMs: 1.5 })).toThrow(/totalDurationMs/);
  });
});
