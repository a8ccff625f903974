import { describe, expect, it } from "vitest";
import type { Manifest } from "../cache/manifest.js";
import { CacheEventReporter } from "./cache-events.js";
import type { BuildEvent } from "./events.js";

// What the user is told about the cache: outcomes (data, from the cache and its transports) in,
// events out. The transports' own behaviour is in src/cache/remote-oci.test.ts.

const REPO = "registry.example.com/triton-cache";
const REF = `${REPO}:onnxruntime-${"a".repeat(64)}`;

function reporter() {
  const events: BuildEvent[] = [];
  const report = new CacheEventReporter((event) => events.push(event), REPO);
  const said = (type: string) => events.filter((e) => e.type === type).map((e) => (e as { message: string }).message);
  return { events, report, warnings: () => said("warning"), infos: () => said("info") };
}

describe("CacheEventReporter: the remote cache's one warning", () => {
  it("a registry that is down: one warning naming it and the reason; later problems are information", () => {
    const { report, warnings, infos } = reporter();
    report.fetched("onnxruntime", REF, { status: "unavailable", reason: "connection refused", lost: "both" });
    report.remote({ status: "unavailable", reason: "connection refused again", lost: "write" });
    expect(warnings()).toEqual([`remote cache ${REPO} is unavailable (connection refused); continuing without it`]);
    expect(infos()).toEqual([`remote cache ${REPO} cannot be written (connection refused again); continuing without it`]);
  });

  it("says which side was lost: reading, then writing", () => {
    const { report, warnings, infos } = reporter();
    report.fetched("onnxruntime", REF, { status: "unavailable", reason: "unauthorized", lost: "read" });
    report.stored("python", "b".repeat(64), { stored: "stored", push: { status: "unavailable", reason: "denied", lost: "write" } }, REF);
    expect(warnings()).toEqual([`remote cache ${REPO} cannot be read (unauthorized); continuing without it`]);
    expect(infos()).toEqual([`remote cache ${REPO} cannot be written (denied); continuing without it`]);
  });

  it("a miss, a skipped side, an existing tag and a present entry say nothing", () => {
    const { events, report } = reporter();
    report.fetched("onnxruntime", REF, { status: "miss" });
    report.fetched("onnxruntime", REF, { status: "skipped", reason: "read mode" });
    report.remote({ status: "present" });
    report.remote({ status: "absent" });
    report.stored("onnxruntime", "a".repeat(64), { stored: "exists", push: { status: "exists" } }, REF);
    expect(events).toEqual([]);
  });
});

describe("CacheEventReporter: entries", () => {
  it("a remote entry refused on arrival is a warning naming its reference and the reason", () => {
    const { report, warnings } = reporter();
    report.fetched("onnxruntime", REF, { status: "rejected", reason: "the entry's signature does not match" });
    expect(warnings()).toEqual([`remote cache entry ${REF} was not used: the entry's signature does not match`]);
  });

  it("storing and pushing are collect output; a rejected entry replaced says so", () => {
    const { events, report } = reporter();
    report.stored("onnxruntime", "a".repeat(64), { stored: "stored", push: { status: "pushed" } }, REF);
    report.stored("python", "b".repeat(64), { stored: "stored", push: { status: "replaced" } }, REF);
    expect(events.map((e) => (e as { line?: string }).line)).toEqual([
      `cached onnxruntime as ${"a".repeat(12)}`,
      `pushed onnxruntime to ${REF}`,
      `cached python as ${"b".repeat(12)}`,
      `pushed python to ${REF}, replacing the entry this run rejected`,
    ]);
  });

  it("a component that installed nothing is a warning", () => {
    const { report, warnings } = reporter();
    report.stored("identity", "c".repeat(64), { stored: "empty" });
    expect(warnings()).toEqual(["identity installed no files; nothing to cache"]);
  });

  it("restore steps: restored is an event with the time saved; evicted, gone and kept are warnings with what comes next, and the reason for the plan", () => {
    const { events, report, warnings } = reporter();
    const manifest = { buildDurationMs: 8000 } as Manifest;
    expect(report.restoreStep("core", { status: "restored", source: "local", result: { files: 1, bytes: 1, ms: 20, manifest } })).toBeUndefined();
    expect(events[0]).toEqual({ type: "component-cached", name: "core", restoreMs: 20, savedMs: 8000, source: "local" });
    expect(report.restoreStep("python", { status: "evicted", source: "local", problem: "x is a FIFO", next: "remote" })).toBe("entry evicted: x is a FIFO");
    expect(report.restoreStep("python", { status: "gone", source: "local", problem: "entry was removed meanwhile", next: "build" })).toBe(
      "entry was removed meanwhile",
    );
    expect(report.restoreStep("onnxruntime", { status: "kept", source: "local", problem: "ENOSPC" })).toBe("restore failed: ENOSPC");
    expect(warnings()).toEqual([
      "cache entry of python is corrupt and was evicted (x is a FIFO); trying the remote cache",
      "cache entry of python: entry was removed meanwhile; building it instead",
      "could not restore onnxruntime from the cache (restore failed: ENOSPC); building it instead",
    ]);
  });
});
